"""jobdeck against its Python peers, measured side by side in one run.

    bash bench/peers/run.sh                      # = make bench-peers: venvs, then this
    bash bench/peers/run.sh --quick              # smoke run: 2,000 jobs, 1 repeat
    bash bench/peers/run.sh --only jobdeck-pg,pgqueuer,huey-redis --workloads drain,latency

Every (repeat, workload, system) is one driver process (``bench/peers/driver.py``) in the
virtualenv that holds that system; systems take turns round-robin inside each workload, and the
order rotates every repeat, so machine noise hits all alike. Writes
``bench/results/peers-<date>[-quick].md``, ``.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import describe_machine
from bench.peers import report, systems
from bench.peers.common import (
    DEFAULT_PG_ADMIN_URL,
    DEFAULT_REDIS_URL,
    PEERS_DIR,
    PG_PREFIX,
    REPO_ROOT,
    RESULTS_DIR,
    python_env,
)

WORKLOADS = ("single", "bulk", "drain", "latency")
# The venv each group of systems runs in; run.sh builds them (see bench/peers/README.md).
VENVS = {"main": ".venv", "arq": ".venv-arq", "oban": ".venv-312"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 jobs, 1 repeat")
    parser.add_argument("--only", default="", help="comma-separated systems (default: all)")
    parser.add_argument("--skip", default="", help="comma-separated systems to leave out")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help="comma-separated, from: single,bulk,drain,latency (drain also times bulk)",
    )
    parser.add_argument("--jobs", type=int, default=None, help="jobs per workload (20,000)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (3; quick: 1)")
    parser.add_argument("--chunk", type=int, default=1_000, help="jobs per batch call")
    parser.add_argument("--latency-jobs", type=int, default=None, help="(300; quick: 100)")
    parser.add_argument("--latency-rate", type=float, default=50.0, help="jobs/s (50)")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds (600)")
    parser.add_argument(
        "--cap",
        type=float,
        default=15.0,
        help="seconds a single enqueue, bulk enqueue or drain may take before it stops and "
        "its rate is taken over the jobs done so far (15)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="minutes; when a repeat shows the planned repeats would not fit, run fewer "
        "(and say so in the report). Default 35 for a full run, none with --quick/--repeats",
    )
    parser.add_argument(
        "--settings",
        default="defaults,tuned",
        help="comma-separated passes, from: defaults (each system as its CLI runs unasked), "
        "tuned (the worker settings that drained fastest in trials; only the systems where "
        "they differ run again, the others' rows are the defaults pass's)",
    )
    parser.add_argument(
        "--concurrency",
        action="append",
        default=[],
        metavar="SYSTEM=N",
        help="override a system's worker setting, e.g. pgqueuer=100 (repeatable)",
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("JOBDECK_BENCH_PG", DEFAULT_PG_ADMIN_URL),
        help="a PostgreSQL URL allowed to CREATE/DROP DATABASE",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a database to FLUSHDB")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--tag", default="", help="appended to the output file names")
    parser.add_argument("--no-chart", action="store_true")
    return parser.parse_args(argv)


# -- preflight ------------------------------------------------------------------------------------


def venv_python(venv: str) -> Path:
    return PEERS_DIR / VENVS[venv] / "bin" / "python"


def unavailable_reasons(names: list[str], args: argparse.Namespace) -> dict[str, str]:
    """Systems that cannot run here, each with the reason printed in the report."""
    reasons: dict[str, str] = {}
    for name in names:
        venv = systems.SYSTEMS[name][2]
        marker = PEERS_DIR / f"{VENVS[venv]}.skip"
        if marker.exists():
            reasons[name] = marker.read_text().strip()
        elif not venv_python(venv).exists():
            reasons[name] = f"{VENVS[venv]} is missing: run bench/peers/run.sh to build it"
    redis_reason = _redis_unavailable(args.redis_url)
    pg_reason = _postgres_unavailable(args.pg_admin_url)
    for name in names:
        if name in reasons:
            continue
        store = systems.load(name).store
        if store == "Redis" and redis_reason:
            reasons[name] = redis_reason
        if store == "PostgreSQL" and pg_reason:
            reasons[name] = pg_reason
    return reasons


def _redis_unavailable(url: str) -> str | None:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.ping()
        client.close()
        return None
    except Exception as exc:
        return f"Redis at {url} is unreachable: {str(exc).splitlines()[0]}"


def _postgres_unavailable(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            # Databases a crashed earlier run left behind (only ours: the prefix is reserved).
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", (PG_PREFIX + "%",)
                ).fetchall()
            ]
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return None
    except Exception as exc:
        return f"PostgreSQL at {url} is unreachable: {str(exc).strip().splitlines()[0]}"


# -- running --------------------------------------------------------------------------------------


def run_driver(name: str, workload: str, args: argparse.Namespace, cfg: dict[str, Any]) -> dict:
    venv = systems.SYSTEMS[name][2]
    with tempfile.NamedTemporaryFile(prefix="jd_peers_", suffix=".json", delete=False) as f:
        out = Path(f.name)
    command = [
        str(venv_python(venv)),
        "-m",
        "bench.peers.driver",
        "--system",
        name,
        "--workload",
        workload,
        "--jobs",
        str(cfg["jobs"]),
        "--chunk",
        str(cfg["chunk"]),
        "--latency-jobs",
        str(cfg["latency_jobs"]),
        "--latency-rate",
        str(cfg["latency_rate"]),
        "--drain-timeout",
        str(args.drain_timeout),
        "--cap",
        str(args.cap),
        "--pg-admin-url",
        args.pg_admin_url,
        "--redis-url",
        args.redis_url,
        "--out",
        str(out),
    ]
    command += ["--settings", cfg["settings"]]
    if name in cfg["concurrency"]:
        command += ["--concurrency", str(cfg["concurrency"][name])]
    env = python_env()
    if os.environ.get("PEERS_JOBDECK_ASYNC"):
        env["PEERS_JOBDECK_ASYNC"] = os.environ["PEERS_JOBDECK_ASYNC"]
    try:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=args.drain_timeout + 300,
            check=False,
        )
        if out.exists() and out.stat().st_size:
            result: dict[str, Any] = json.loads(out.read_text())
        else:
            result = {
                "ok": False,
                "error": f"driver exited {done.returncode}: {done.stderr.strip()[-1500:]}",
            }
    except subprocess.TimeoutExpired:
        result = {"ok": False, "error": f"driver timed out after {args.drain_timeout + 300:g} s"}
    finally:
        out.unlink(missing_ok=True)
    return result


def workloads_for(name: str, selected: list[str]) -> list[str]:
    cls = systems.load(name)
    chosen = [w for w in selected if cls.has_worker or w != "latency"]
    if "drain" in chosen and "bulk" in chosen:
        chosen.remove("bulk")  # the drain's setup is the bulk enqueue, timed the same way
    return chosen


def brief(workload: str, figures: dict[str, Any]) -> str:
    if workload == "drain":
        d, b = figures["drain"], figures["bulk"]
        rss = f", RSS {d['rss_peak_mb']:.0f} MB" if "rss_peak_mb" in d else ""
        return f"bulk {b['jobs_per_s']:,.0f}/s, drain {d['jobs_per_s']:,.0f}/s{rss}"
    if workload == "latency":
        return f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
    return f"{figures['jobs_per_s']:,.0f}/s"


def run(
    args: argparse.Namespace, settings: str, defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One pass over the systems at ``settings``. The tuned pass runs again only the systems
    whose tuned setting differs, and only the worker's workloads; the rest of its table is
    ``defaults``'s rows."""
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(systems.SYSTEMS)
    skip = {n.strip() for n in args.skip.split(",") if n.strip()}
    unknown = [n for n in [*names, *skip] if n not in systems.SYSTEMS]
    if unknown:
        known = ", ".join(systems.SYSTEMS)
        raise SystemExit(f"unknown systems: {', '.join(unknown)}; known: {known}")
    names = [n for n in names if n not in skip]
    selected = [w.strip() for w in args.workloads.split(",") if w.strip()]
    bad = [w for w in selected if w not in WORKLOADS]
    if bad:
        raise SystemExit(f"unknown workloads: {', '.join(bad)}; known: {', '.join(WORKLOADS)}")
    if settings == "tuned":
        names = [n for n in names if systems.load(n).tuning_differs()]
        selected = [w for w in selected if w in ("drain", "latency")]
    cfg: dict[str, Any] = {
        "settings": settings,
        "jobs": args.jobs or (2_000 if args.quick else 20_000),
        "repeats": args.repeats or (1 if args.quick else 3),
        "chunk": args.chunk,
        "latency_jobs": args.latency_jobs or (100 if args.quick else 300),
        "latency_rate": args.latency_rate,
        "workloads": selected,
        "quick": args.quick,
        "cap_s": args.cap,
        "concurrency": {
            k: int(v) for k, _, v in (item.partition("=") for item in args.concurrency)
        },
        "jobdeck_async_tasks": os.environ.get("PEERS_JOBDECK_ASYNC") == "1",
    }
    skipped = unavailable_reasons(names, args)
    for name, reason in skipped.items():
        log(f"skipping {name}: {reason}")
    active = [n for n in names if n not in skipped]

    from bench.workloads import cpu_reference  # jobdeck's own reference loop, same figure

    runs: dict[str, dict[str, list[dict[str, Any]]]] = {n: {} for n in active}
    meta: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    cpu_ms: list[float] = []
    load_before = os.getloadavg()
    started = time.perf_counter()
    budget = args.budget
    if budget is None and not args.quick and args.repeats is None:
        budget = 35.0
    cfg["budget_min"] = budget
    cfg["repeats_planned"] = cfg["repeats"]
    repeat = 0
    while repeat < cfg["repeats"]:
        cpu_ms.append(cpu_reference())
        for workload in WORKLOADS:
            if workload not in selected:
                continue
            # Round-robin, rotated each repeat: nobody always goes first (or last).
            shift = repeat % max(len(active), 1)
            order = active[shift:] + active[:shift]
            for name in order:
                if workload not in workloads_for(name, selected):
                    continue
                log_prefix = (
                    f"[{time.perf_counter() - started:7.1f}s] {repeat + 1}/{cfg['repeats']} "
                    f"{workload:<8} {name:<15}"
                )
                result = run_driver(name, workload, args, cfg)
                if not result.get("ok"):
                    error = result.get("error", "?")
                    errors.append(f"{name} {workload} (repeat {repeat + 1}): {error}")
                    log(f"{log_prefix} FAILED: {error.splitlines()[0][:300]}")
                    continue
                runs[name].setdefault(workload, []).append(result["figures"])
                info = meta.setdefault(name, {})
                info["setting"] = result.get("setting", "")
                if result.get("describe"):
                    info["describe"] = result["describe"]
                log(f"{log_prefix} {brief(workload, result['figures'])}")
        repeat += 1
        if budget and repeat < cfg["repeats"]:
            per_repeat = (time.perf_counter() - started) / repeat
            affordable = max(repeat, int(budget * 60 // per_repeat))
            if affordable < cfg["repeats"]:
                cfg["repeats"] = affordable
                cfg["repeats_note"] = (
                    f"planned {cfg['repeats_planned']} repeats, ran {affordable}: a repeat took "
                    f"{per_repeat / 60:.1f} min and the run's budget is {budget:g} min"
                )
                log(cfg["repeats_note"])
    elapsed = time.perf_counter() - started
    if defaults is not None:
        _borrow_rows(runs, meta, defaults)
    for name in active:
        cls = systems.load(name)
        info = meta.setdefault(name, {})
        info.update(
            label=cls.label,
            store=cls.store,
            venv=systems.SYSTEMS[name][2],
            facts=cls.facts.__dict__,
            own_state=cls.own_state,
        )
    return {
        "kind": "jobdeck-peers",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "machine": describe_machine(load_before),
        "config": cfg,
        "cpu_reference_ms": statistics.median(cpu_ms) if cpu_ms else None,
        "cpu_reference_runs_ms": cpu_ms,
        "systems": meta,
        "versions": _versions(list(runs)),
        "skipped": skipped,
        "errors": errors,
        "runs": runs,
        "median": {name: report.medians(by_workload) for name, by_workload in runs.items()},
    }


def _borrow_rows(
    runs: dict[str, dict[str, list[dict[str, Any]]]],
    meta: dict[str, dict[str, Any]],
    defaults: dict[str, Any],
) -> None:
    """Fill the tuned table from the defaults pass: every system it did not run again, and the
    enqueue workloads (a worker setting does not change them) of those it did."""
    for name, by_workload in defaults["runs"].items():
        mine = runs.setdefault(name, {})
        for workload, figures in by_workload.items():
            if workload not in mine:
                mine[workload] = figures
        if name not in meta:
            meta[name] = {**defaults["systems"][name], "same_as_defaults": True}


_PACKAGES = {
    "jobdeck-pg": "jobdeck",
    "jobdeck-sqlite": "jobdeck",
    "celery-prefork": "celery",
    "celery-threads": "celery",
    "rq": "rq",
    "dramatiq": "dramatiq",
    "huey-redis": "huey",
    "huey-sqlite": "huey",
    "arq": "arq",
    "saq": "saq",
    "procrastinate": "procrastinate",
    "pgqueuer": "pgqueuer",
    "oban": "oban",
    "floor-pg": "psycopg",
    "floor-sqlite": "",
}


def _versions(names: list[str]) -> dict[str, str]:
    """Each system's package version, asked of the venv that runs it."""
    versions: dict[str, str] = {}
    for name in names:
        package = _PACKAGES.get(name, "")
        if not package:
            continue
        python = venv_python(systems.SYSTEMS[name][2])
        done = subprocess.run(
            [str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
            capture_output=True,
            text=True,
            check=False,
        )
        versions[name] = done.stdout.strip() or "?"
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    return versions


SETTINGS = ("defaults", "tuned")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    passes = [p.strip() for p in args.settings.split(",") if p.strip()]
    bad = [p for p in passes if p not in SETTINGS]
    if bad or not passes:
        raise SystemExit(f"unknown settings: {', '.join(bad)}; known: {', '.join(SETTINGS)}")
    results: dict[str, dict[str, Any]] = {}
    for settings in [p for p in SETTINGS if p in passes]:
        log(f"== {settings} ==")
        results[settings] = run(args, settings, results.get("defaults"))
    failed = False
    for settings, result in results.items():
        failed |= bool(result["errors"])
        write(result, args, settings)
    return 1 if failed else 0


def write(result: dict[str, Any], args: argparse.Namespace, settings: str) -> None:
    suffix = f"-{settings}" + ("-quick" if args.quick else "")
    suffix += f"-{args.tag}" if args.tag else ""
    stem = args.output_dir / f"peers-{result['date'][:10]}{suffix}"
    args.output_dir.mkdir(parents=True, exist_ok=True)
    result["targets"] = report.targets(result)
    result["ratios"] = report.ratios(result)
    chart = None
    if not args.no_chart:
        try:
            chart = report.chart(result, stem.with_suffix(".png"))
        except Exception as exc:  # matplotlib missing or broken: the table still matters
            log(f"no chart: {exc}")
    markdown = report.markdown(result, chart)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    stem.with_suffix(".md").write_text(markdown)
    print(markdown)
    log(f"wrote {stem}.md, {stem}.json" + (f", {chart.name}" if chart else ""))


if __name__ == "__main__":
    sys.exit(main())
