"""Medians, ratios, the issue's targets, the markdown report and the bar chart."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import number
from bench.peers.systems import FLOORS, JOBDECK, SYSTEMS

# (key, label, unit, higher is better)
COLUMNS: list[tuple[str, str, str, bool]] = [
    ("single.jobs_per_s", "enqueue, 1 call per job", "jobs/s", True),
    ("bulk.jobs_per_s", "bulk enqueue", "jobs/s", True),
    ("drain.jobs_per_s", "drain, 1 worker process", "jobs/s", True),
    ("latency.p50_ms", "start p50", "ms", False),
    ("latency.p95_ms", "start p95", "ms", False),
    ("latency.p99_ms", "start p99", "ms", False),
    ("drain.rss_peak_mb", "worker peak RSS", "MB", False),
]


def flatten(workload: str, figures: dict[str, Any]) -> dict[str, float]:
    if workload == "drain":
        return {
            **{f"bulk.{k}": v for k, v in figures["bulk"].items()},
            **{f"drain.{k}": v for k, v in figures["drain"].items()},
        }
    return {f"{workload}.{k}": v for k, v in figures.items()}


def collected(by_workload: dict[str, list[dict[str, Any]]]) -> dict[str, list[float]]:
    values: dict[str, list[float]] = defaultdict(list)
    for workload, runs in by_workload.items():
        for figures in runs:
            for key, value in flatten(workload, figures).items():
                values[key].append(float(value))
    return values


def medians(by_workload: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    return {key: statistics.median(vs) for key, vs in collected(by_workload).items()}


def reference_for(name: str, result: dict[str, Any]) -> str:
    """Which jobdeck a row is compared with: the SQLite one for SQLite rows."""
    store = result["systems"].get(name, {}).get("store")
    return "jobdeck-sqlite" if store == "SQLite" else "jobdeck-pg"


def ratios(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """jobdeck / peer for every figure of COLUMNS (and the floor's COPY)."""
    out: dict[str, dict[str, float]] = {}
    median = result["median"]
    for name, figures in median.items():
        if name in JOBDECK:
            continue
        ref = median.get(reference_for(name, result), {})
        row = {}
        for key, *_ in COLUMNS:
            if key in figures and key in ref and figures[key]:
                row[key] = ref[key] / figures[key]
        if "bulk.copy_jobs_per_s" in figures and "bulk.jobs_per_s" in ref:
            row["bulk.copy_jobs_per_s"] = ref["bulk.jobs_per_s"] / figures["bulk.copy_jobs_per_s"]
        out[name] = row
    return out


def _peers(result: dict[str, Any]) -> list[str]:
    return [n for n in result["median"] if n not in JOBDECK and n not in FLOORS]


def _best(result: dict[str, Any], key: str, higher: bool) -> tuple[str, float] | None:
    found = [(n, result["median"][n][key]) for n in _peers(result) if key in result["median"][n]]
    if not found:
        return None
    return max(found, key=lambda kv: kv[1]) if higher else min(found, key=lambda kv: kv[1])


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 20's goals, then the earlier floors, each with what this pass measured."""
    median = result["median"]
    pg = median.get("jobdeck-pg", {})
    lite = median.get("jobdeck-sqlite", {})
    floor = median.get("floor-pg", {})
    rows: list[dict[str, Any]] = []

    def add(
        kind: str, what: str, got: float | None, need: float | None, ok: bool | None, detail: str
    ) -> None:
        rows.append(
            {"kind": kind, "target": what, "got": got, "need": need, "met": ok, "detail": detail}
        )

    def vs_best(kind: str, key: str, factor: float, what: str, jobdeck: dict[str, float]) -> None:
        best = _best(result, key, True)
        compare(kind, what, jobdeck.get(key), best, factor)

    def vs_peer(kind: str, key: str, peer: str, factor: float, what: str) -> None:
        theirs = median.get(peer, {}).get(key)
        compare(kind, what, pg.get(key), (peer, theirs) if theirs else None, factor)

    def compare(
        kind: str, what: str, mine: float | None, other: tuple[str, float] | None, factor: float
    ) -> None:
        if other is None or mine is None:
            add(kind, what, mine, None, None, "not measured")
            return
        ratio = mine / other[1]
        detail = f"{ratio:.2f}x {other[0]} ({other[1]:,.0f}/s)"
        add(kind, what, mine, other[1] * factor, ratio >= factor, detail)

    def at_most(kind: str, what: str, got: float | None, limit: float | None, detail: str) -> None:
        if got is None or limit is None:
            add(kind, what, got, limit, None, "not measured")
        else:
            add(kind, what, got, limit, got <= limit, detail)

    def share_of(
        what: str, got: float | None, reference: float | None, share: float, detail: str
    ) -> None:
        """A goal met when ``got`` is at least ``share`` of ``reference``; ``detail`` is a
        format string for the measured share."""
        if got is None or reference is None:
            add("goal", what, got, None, None, "not measured")
            return
        ratio = got / reference
        add("goal", what, got, share * reference, ratio >= share, detail.format(ratio))

    # Issue 20's goals, with each system at the settings of this pass.
    vs_best("goal", "drain.jobs_per_s", 2.0, "PG drain >= 2x fastest peer", pg)
    vs_best("goal", "drain.jobs_per_s", 2.0, "SQLite drain >= 2x fastest peer", lite)
    vs_peer("goal", "bulk.jobs_per_s", "pgqueuer", 1.5, "PG bulk enqueue >= 1.5x pgqueuer")
    vs_peer("goal", "single.jobs_per_s", "pgqueuer", 1.0, "PG single enqueue >= pgqueuer")
    share_of(
        "PG single enqueue >= 80% of raw insert floor",
        pg.get("single.jobs_per_s"),
        floor.get("single.jobs_per_s"),
        0.8,
        "{:.0%} of the floor",
    )
    at_most("goal", "PG start p99 < 2 ms", pg.get("latency.p99_ms"), 2.0, "ms")
    at_most("goal", "SQLite start p99 < 2 ms", lite.get("latency.p99_ms"), 2.0, "ms")
    at_most("goal", "PG worker RSS <= 36 MB", pg.get("drain.rss_peak_mb"), 36.0, "MB")
    at_most("goal", "SQLite worker RSS <= 36 MB", lite.get("drain.rss_peak_mb"), 36.0, "MB")
    # The floors the earlier issue set, kept so a regression below them shows.
    vs_best("floor", "drain.jobs_per_s", 1.0, "PG drain >= fastest peer", pg)
    at_most("floor", "PG start p99 < 10 ms", pg.get("latency.p99_ms"), 10.0, "ms")
    at_most("floor", "SQLite start p99 < 10 ms", lite.get("latency.p99_ms"), 10.0, "ms")
    return rows


# -- markdown -------------------------------------------------------------------------------------


def _order(result: dict[str, Any]) -> list[str]:
    return [n for n in SYSTEMS if n in result["median"]]


def markdown(result: dict[str, Any], chart: Path | None) -> str:
    cfg, machine = result["config"], result["machine"]
    median, ratio, info = result["median"], result["ratios"], result["systems"]
    spread = f"median of {cfg['repeats']}" if cfg["repeats"] > 1 else "1 run"
    if cfg.get("repeats_note"):
        spread += f" ({cfg['repeats_note']})"
    settings = cfg.get("settings", "defaults")
    lines = [
        f"# jobdeck and its Python peers, {result['date'][:10]}: {_TITLES[settings]}",
        "",
        _SETTINGS_NOTES[settings],
        "",
        f"{machine['cores']} cores ({machine['cpu']}), Python {machine['python']}; "
        f"CPU reference loop {result['cpu_reference_ms']:.0f} ms "
        f"(bench.workloads.cpu_reference); load average {machine['loadavg_before'][0]:.2f} "
        f"before, {machine['loadavg_after'][0]:.2f} after; the run took "
        f"{result['elapsed_s'] / 60:.1f} min. {cfg['jobs']:,} no-op jobs per workload, {spread}; "
        f"bulk in calls of {cfg['chunk']:,}; latency: {cfg['latency_jobs']} jobs at "
        f"{cfg['latency_rate']:g}/s into an idle worker.",
        "",
        "Each cell: the median, then **jobdeck ÷ peer** in brackets (jobdeck on PostgreSQL for "
        "PostgreSQL and Redis rows, jobdeck on SQLite for SQLite rows). For jobs/s a ratio "
        "above 1 means jobdeck is faster; for ms and MB a ratio below 1 means jobdeck is "
        "better.",
        "",
    ]
    header = ["system", "store"] + [f"{label} ({unit})" for _, label, unit, _ in COLUMNS]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * 2 + "---:|" * len(COLUMNS))
    capped = no_batch = False
    for name in _order(result):
        label = info[name]["label"]
        cells = [f"**{label}**" if name in JOBDECK else label, info[name]["store"]]
        values = collected(result["runs"][name])
        for key, *_ in COLUMNS:
            value = median[name].get(key)
            if value is None:
                cells.append("-")
                continue
            text = number(value)
            if key.endswith("jobs_per_s") and any(values.get(key.split(".")[0] + ".capped", [])):
                text += " †"
                capped = True
            if key == "bulk.jobs_per_s" and info[name]["facts"]["bulk_api"].startswith(
                ("none", "group")
            ):
                text += " *"
                no_batch = True
            r = ratio.get(name, {}).get(key)
            if r is not None:
                text += f" ({r:.2f}x)"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    if no_batch:
        lines += [
            "",
            "\\* no batch enqueue: Celery and Dramatiq send a `group(...)` one message at a "
            "time; Huey, arq and saq have no batch call, so this is a loop of single enqueues.",
        ]
    if capped:
        lines += [
            "",
            f"† at least one run stopped at the {cfg['cap_s']:g} s cap before all "
            f"{cfg['jobs']:,} jobs: its rate is over the jobs done by then (see `jobs` in the "
            "JSON). Enqueue and drain rates are steady long before that, and the cap keeps the "
            "whole run within its time budget.",
        ]
    floor = median.get("floor-pg", {})
    if "bulk.copy_jobs_per_s" in floor:
        lines += [
            "",
            f"Raw-SQL floor on PostgreSQL, `COPY` per {cfg['chunk']:,} jobs: "
            f"{number(floor['bulk.copy_jobs_per_s'])} jobs/s "
            f"(jobdeck's bulk enqueue is {ratio['floor-pg'].get('bulk.copy_jobs_per_s', 0):.2f}x "
            "that); the bulk column shows its multi-row `INSERT ... SELECT unnest(...)`.",
        ]
    lines += spread_table(result)
    lines += against_best(result)
    lines += ["", "## Goals (issue 20), on this run", ""]
    lines.append("| kind | target | jobdeck | needed | | detail |")
    lines.append("|---|---|---:|---:|---|---|")
    for t in result["targets"]:
        got = "-" if t["got"] is None else number(t["got"])
        need = "-" if t["need"] is None else number(t["need"])
        status = {True: "met", False: "**missed**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['kind']} | {t['target']} | {got} | {need} | {status} | {t['detail']} |")
    lines += [
        "",
        "## Like with like: what each system records, and whether a job survives its worker",
        "",
        "| system | results recorded | running job survives a worker crash | drain completion "
        "detected by | single API | batch API |",
        "|---|---|---|---|---|---|",
    ]
    for name in _order(result):
        f = info[name]["facts"]
        lines.append(
            f"| {info[name]['label']} | {f['results']} | {f['crash']} | {f['completion']} | "
            f"`{f['single_api']}` | {f['bulk_api']} |"
        )
    lines += [
        "",
        "## Worker settings and the rest of each drain",
        "",
        "| system | version | worker setting | processes | drain wall time incl. start-up (s) "
        "| start-up to first job (s) | worker CPU per wall second "
        "| peak RSS of main process (MB) | PostgreSQL growth during the drain (bytes/job) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in _order(result):
        m = median[name]

        def cell(key: str, m: dict[str, float] = m) -> str:
            return number(m[key]) if key in m else "-"

        lines.append(
            f"| {info[name]['label']} | {result['versions'].get(name, '')} | "
            f"{_setting(info[name])} | {cell('drain.processes')} | {cell('drain.wall_s')}"
            f" | {cell('drain.startup_s')} | {cell('drain.cpu_per_wall')} | "
            f"{cell('drain.rss_peak_main_mb')} | {cell('drain.store_growth_bytes_per_job')} |"
        )
    lines += ["", "## How it was measured", ""]
    lines += [f"- {line}" for line in method_notes(result)]
    if result["skipped"]:
        lines += ["", "## Skipped", ""]
        lines += [f"- {name}: {reason}" for name, reason in result["skipped"].items()]
    if result["errors"]:
        lines += ["", "## Errors", ""]
        lines += [f"- {e.splitlines()[0][:400]}" for e in result["errors"]]
    if chart is not None:
        lines += ["", f"![jobdeck and its peers]({chart.name})"]
    return "\n".join(lines) + "\n"


_TITLES = {"defaults": "each system with its defaults", "tuned": "tuned worker settings"}
_SETTINGS_NOTES = {
    "defaults": "Every worker runs as its CLI does when the user passes no setting "
    "(`jobdeck worker --app ...`, `pgq run ...`, `procrastinate worker`, ...): what a user "
    "gets. The worker setting of each is in the last table.",
    "tuned": "The worker settings that drained fastest in trials here (concurrency, batch "
    "size, max_jobs). Only the systems whose tuned setting differs from their default ran "
    "again (drain and latency); their enqueue figures, and every row of the others, are the "
    "defaults pass's of the same run.",
}


def _setting(info: dict[str, Any]) -> str:
    setting = str(info.get("setting", ""))
    return f"{setting} (as in the defaults pass)" if info.get("same_as_defaults") else setting


# (key, label, higher is better): the figures compared with the fastest peer and the floor.
_HEADLINE = [
    ("single.jobs_per_s", "enqueue, 1 call per job (jobs/s)", True),
    ("bulk.jobs_per_s", "bulk enqueue (jobs/s)", True),
    ("drain.jobs_per_s", "drain (jobs/s)", True),
    ("latency.p99_ms", "start p99 (ms)", False),
    ("drain.rss_peak_mb", "worker peak RSS (MB)", False),
]


def against_best(result: dict[str, Any]) -> list[str]:
    """jobdeck on each store beside the best peer of each figure and the raw-SQL floor."""
    median = result["median"]
    pg, lite = median.get("jobdeck-pg", {}), median.get("jobdeck-sqlite", {})
    floors = {"PG": median.get("floor-pg", {}), "SQLite": median.get("floor-sqlite", {})}
    lines = [
        "",
        "## Against the best peer and the raw-SQL floor",
        "",
        "Ratios are jobdeck ÷ the other (for ms and MB, below 1 is better). The best peer is "
        "the best of every peer on any store; each floor is its own store's.",
        "",
        "| figure | jobdeck PG | jobdeck SQLite | best peer | PG ÷ best | SQLite ÷ best "
        "| floor PG | PG ÷ floor | floor SQLite | SQLite ÷ floor |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label, higher in _HEADLINE:
        best = _best(result, key, higher)
        best_cell = f"{result['systems'][best[0]]['label']} {number(best[1])}" if best else "-"
        cells = [label, _num(pg.get(key)), _num(lite.get(key)), best_cell]
        cells += [_ratio(pg.get(key), best), _ratio(lite.get(key), best)]
        for store, mine in (("PG", pg), ("SQLite", lite)):
            theirs = floors[store].get(key)
            cells += [_num(theirs), _ratio(mine.get(key), ("floor", theirs) if theirs else None)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None else number(value)


def _ratio(mine: float | None, other: tuple[str, float] | None) -> str:
    if mine is None or other is None or not other[1]:
        return "-"
    return f"{mine / other[1]:.2f}x"


def spread_table(result: dict[str, Any]) -> list[str]:
    """Min-max over the repeats: how much the machine's noise moved each figure."""
    if result["config"]["repeats"] < 2:
        return []
    keys = [
        ("single.jobs_per_s", "enqueue"),
        ("bulk.jobs_per_s", "bulk"),
        ("drain.jobs_per_s", "drain"),
        ("latency.p50_ms", "p50 ms"),
        ("latency.p99_ms", "p99 ms"),
    ]
    lines = [
        "",
        "Spread over the repeats (min-max; every run is in the JSON):",
        "",
        "| system | " + " | ".join(label for _, label in keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for name in _order(result):
        values = collected(result["runs"][name])
        cells = []
        for key, _ in keys:
            vs = values.get(key)
            cells.append(f"{number(min(vs))}-{number(max(vs))}" if vs else "-")
        lines.append(f"| {result['systems'][name]['label']} | " + " | ".join(cells) + " |")
    return lines


def method_notes(result: dict[str, Any]) -> list[str]:
    notes = [
        "Every (repeat, workload, system) is a fresh process in a benchmark-only virtualenv "
        "(bench/peers/run.sh), on a fresh store: a new PostgreSQL database with the system's "
        "own schema, an emptied Redis database, or a new SQLite file. Systems take turns "
        "round-robin inside each workload and the order rotates every repeat.",
        "Workers are each system's own CLI as a subprocess, at the setting in the table. "
        "Task bodies are identical: one `write` to an append-only file "
        "(bench/peers/apps/sink.py).",
        "Drain: the bulk enqueue fills the queue, then the worker starts. jobs/s runs from the "
        "first task's start (written by the task) to the moment the system's own state says "
        "all are done (or the sink counter does, where the system keeps no state), polled "
        "every 10 ms. Every drain checks the task bodies ran exactly once per job and, where "
        "the system keeps state, that it recorded every job as done.",
        "Latency: `time.time()` just before each enqueue call travels as the job's argument; "
        "the task writes its own start time. One warm-up job is dropped.",
        "Peak RSS: VmHWM from /proc when the queue is empty, summed over the worker's process "
        "tree (prefork/forking workers count every process; shared copy-on-write pages are "
        "counted once per process, so a tree's sum overstates its memory).",
    ]
    for name, info in result["systems"].items():
        describe = info.get("describe") or {}
        if name == "jobdeck-pg" and describe:
            notes.append(
                f"PostgreSQL {describe.get('server_version')} on 127.0.0.1: fsync="
                f"{describe.get('fsync')}, synchronous_commit={describe.get('synchronous_commit')}"
                f", shared_buffers={describe.get('shared_buffers')} (stock settings)."
            )
        if name == "huey-redis" and describe:
            notes.append(
                f"Redis {describe.get('redis_version')}: appendonly={describe.get('appendonly')}, "
                f"save='{describe.get('save')}': the Redis peers' queues are in memory only, "
                "so their enqueues are not durable, unlike the PostgreSQL and SQLite rows."
            )
    machine = result["machine"]
    busiest = max(machine["loadavg_before"][0], machine["loadavg_after"][0])
    if busiest > (machine["cores"] or 1) / 2:
        notes.append(
            f"Warning: the load average reached {busiest:.2f} on {machine['cores']} cores: other "
            "processes shared the machine, so single figures are noisy (see the spread); the "
            "round-robin spreads that noise over every system alike."
        )
    if result["config"].get("jobdeck_async_tasks"):
        notes.append("jobdeck ran `async def` tasks (PEERS_JOBDECK_ASYNC=1).")
    return notes


# -- chart ----------------------------------------------------------------------------------------

_COLOURS = {"PostgreSQL": "#4c72b0", "Redis": "#dd8452", "SQLite": "#55a868"}


def chart(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    median, info = result["median"], result["systems"]
    panels = [c for c in COLUMNS if c[0] != "latency.p95_ms"]
    fig, axes = plt.subplots(2, 3, figsize=(17, 10))
    for ax, (key, label, unit, higher) in zip(axes.flat, panels, strict=False):
        rows = [(info[n]["label"], median[n][key], n) for n in _order(result) if key in median[n]]
        rows.sort(key=lambda r: r[1], reverse=higher)
        labels = [r[0] for r in rows]
        values = [r[1] for r in rows]
        colours = []
        for _, _, name in rows:
            colour = _COLOURS.get(info[name]["store"], "#8c8c8c")
            colours.append("#c44e52" if name in JOBDECK else colour)
        bars = ax.barh(labels, values, color=colours)
        for bar, name in zip(bars, [r[2] for r in rows], strict=True):
            if name in FLOORS:
                bar.set_hatch("//")
                bar.set_alpha(0.6)
        ax.invert_yaxis()
        if values and min(values) > 0 and max(values) / min(values) > 50:
            ax.set_xscale("log")
        ax.set_title(f"{label} ({unit}), {'higher' if higher else 'lower'} is better", fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        ax.tick_params(axis="x", labelsize=8)
        for bar, value in zip(bars, values, strict=True):
            middle = bar.get_y() + bar.get_height() / 2
            ax.text(bar.get_width(), middle, f" {number(value)}", va="center", fontsize=7)
        ax.margins(x=0.18)
    cfg = result["config"]
    fig.suptitle(
        f"jobdeck and its Python peers, {result['date'][:10]}: "
        f"{result['machine']['cores']} cores, {cfg['jobs']:,} no-op jobs, "
        f"median of {cfg['repeats']}, one worker process",
        fontsize=12,
    )
    legend = [Patch(color="#c44e52", label="jobdeck")] + [
        Patch(color=c, label=f"peer on {s}") for s, c in _COLOURS.items()
    ]
    legend.append(Patch(facecolor="#8c8c8c", hatch="//", alpha=0.6, label="raw-SQL floor"))
    fig.legend(handles=legend, loc="lower center", ncol=5, fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """Render a results JSON again: ``python -m bench.peers.report bench/results/peers-X.json``
    rewrites the ``.md`` and ``.png`` beside it (after a change to this module)."""
    import json
    import sys

    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    for path in paths:
        result = json.loads(path.read_text())
        result["targets"] = targets(result)
        result["ratios"] = ratios(result)
        png = chart(result, path.with_suffix(".png"))
        path.with_suffix(".md").write_text(markdown(result, png))
        path.write_text(json.dumps(result, indent=1, default=str) + "\n")
        print(f"rendered {path.with_suffix('.md')} and {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
