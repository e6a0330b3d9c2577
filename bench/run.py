"""jobdeck's core benchmarks on SQLite and PostgreSQL: prints one table, writes JSON.

    .venv/bin/python bench/run.py                 # full run: 20,000 jobs, median of 3
    .venv/bin/python bench/run.py --quick         # smoke run: 2,000 jobs, 1 repeat
    .venv/bin/python bench/run.py --dialect sqlite

Workloads (each on a fresh database): single enqueue, bulk enqueue, one worker process
draining the queue (with its peak RSS), and enqueue-to-start latency into an idle worker.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo root importable for bench.*
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table

from bench.app import make_deck
from bench.common import describe_machine, number
from bench.targets import (
    DEFAULT_PG_ADMIN_URL,
    PostgresTarget,
    SQLiteTarget,
    Target,
    postgres_unavailable,
)
from bench.workloads import (
    REPO_ROOT,
    BenchError,
    Config,
    cpu_reference,
    drain,
    drain_reporting,
    enqueue_bulk,
    enqueue_single,
    start_latency,
)

RESULTS = REPO_ROOT / "bench" / "results"
console = Console(stderr=True)

# (key, label, unit, higher is better); the key is "<workload>.<figure>".
WORKLOADS: dict[str, Callable[[Target, Config], dict[str, float]]] = {
    "enqueue_single": enqueue_single,
    "enqueue_bulk": enqueue_bulk,
    "drain": drain,
    "latency": start_latency,
    "drain_reporting": drain_reporting,
}

ROWS: list[tuple[str, str, str, bool]] = [
    ("enqueue_single.jobs_per_s", "enqueue, one call per job", "jobs/s", True),
    ("enqueue_bulk.jobs_per_s", "enqueue_many, {chunk} per call", "jobs/s", True),
    ("drain.jobs_per_s", "drain, one worker process", "jobs/s", True),
    ("drain.wall_s", "drain wall time incl. start-up", "s", False),
    ("drain.cpu_per_wall", "worker CPU during drain", "cores", False),
    ("latency.p50_ms", "enqueue-to-start p50", "ms", False),
    ("latency.p95_ms", "enqueue-to-start p95", "ms", False),
    ("latency.p99_ms", "enqueue-to-start p99", "ms", False),
    ("drain.peak_rss_mb", "worker peak RSS (VmHWM)", "MB", False),
    (
        "drain_reporting.jobs_per_s",
        "drain, each job reporting progress + a log line",
        "jobs/s",
        True,
    ),
    ("drain_reporting.cpu_per_wall", "worker CPU, reporting drain", "cores", False),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 jobs, 1 repeat")
    parser.add_argument("--dialect", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--jobs", type=int, default=None, help="jobs per workload (20,000)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per workload (3)")
    parser.add_argument("--chunk", type=int, default=1_000, help="jobs per enqueue_many call")
    parser.add_argument("--concurrency", type=int, default=Config.concurrency)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a worker setting for bench.app (JSON value), e.g. fetch_batch_max=200",
    )
    parser.add_argument(
        "--workload",
        action="append",
        choices=WORKLOADS,
        default=[],
        help="run only this workload (repeatable), e.g. --workload drain; default: all",
    )
    parser.add_argument("--latency-jobs", type=int, default=None, help="(300; quick: 100)")
    parser.add_argument("--latency-rate", type=float, default=50.0, help="jobs/s (50)")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("JOBDECK_BENCH_PG", DEFAULT_PG_ADMIN_URL),
        help="a PostgreSQL URL allowed to CREATE/DROP DATABASE",
    )
    parser.add_argument(
        "--sqlite-synchronous", choices=("full", "normal"), default="full", help="(full)"
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON path")
    parser.add_argument("--no-json", action="store_true", help="print only")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> tuple[Config, int]:
    settings: dict[str, Any] = {}
    for item in args.setting:
        name, _, value = item.partition("=")
        try:
            settings[name] = json.loads(value)
        except json.JSONDecodeError:
            settings[name] = value
    jobs = args.jobs or (2_000 if args.quick else 20_000)
    repeats = args.repeats or (1 if args.quick else 3)
    config = Config(
        jobs=jobs,
        chunk=args.chunk,
        concurrency=args.concurrency,
        latency_jobs=args.latency_jobs or (100 if args.quick else 300),
        latency_rate=args.latency_rate,
        settings=settings,
    )
    return config, repeats


def open_targets(args: argparse.Namespace) -> tuple[list[Target], dict[str, str]]:
    targets: list[Target] = []
    skipped: dict[str, str] = {}
    if args.dialect in ("sqlite", "both"):
        targets.append(SQLiteTarget(args.sqlite_synchronous))
    if args.dialect in ("postgres", "both"):
        reason = postgres_unavailable(args.pg_admin_url)
        if reason is None:
            targets.append(PostgresTarget(args.pg_admin_url))
        elif args.dialect == "postgres":
            raise SystemExit(f"PostgreSQL benchmarks cannot run: {reason}")
        else:
            skipped["postgres"] = reason
            console.print(f"[yellow]skipping PostgreSQL: {reason}[/]", soft_wrap=True)
    return targets, skipped


def worker_modules(target: Target, config: Config) -> dict[str, Any]:
    """What ``python -m jobdeck worker`` has imported by the end of a short drain."""
    with tempfile.NamedTemporaryFile(prefix="jd_bench_modules_", delete=False) as handle:
        path = Path(handle.name)
    try:
        drain(target, Config(**{**config.__dict__, "jobs": 200}), modules_file=str(path))
        names = path.read_text().split()
    finally:
        path.unlink(missing_ok=True)
    stdlib = sys.stdlib_module_names
    top = sorted({n.split(".")[0] for n in names})
    ours = {"jobdeck", "bench"}
    third_party = [
        t
        for t in top
        if t not in stdlib and t not in ours and not t.startswith("_") and _is_package(t)
    ]
    return {"count": len(names), "top_level_third_party": third_party, "modules": names}


def _is_package(name: str) -> bool:
    """False for names C extensions leave in sys.modules (cython_runtime) that are no package."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def run(args: argparse.Namespace) -> dict[str, Any]:
    config, repeats = build_config(args)
    targets, skipped = open_targets(args)
    workloads = [(name, WORKLOADS[name]) for name in args.workload or WORKLOADS]
    runs: dict[str, dict[str, list[dict[str, float]]]] = {
        t.dialect: {name: [] for name, _ in workloads} for t in targets
    }
    cpu_ms: list[float] = []
    errors: list[str] = []
    load_before = os.getloadavg()
    modules: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    try:
        for repeat in range(1, repeats + 1):
            cpu_ms.append(cpu_reference())
            for target in targets:  # alternate dialects so machine noise hits both alike
                for name, workload in workloads:
                    console.print(
                        f"[dim]{time.perf_counter() - started:6.1f}s[/] repeat {repeat}/{repeats}"
                        f" {target.label:<10} {name} ...",
                        end="",
                        soft_wrap=True,
                    )
                    try:
                        figures = workload(target, config)
                    except BenchError as exc:
                        errors.append(f"{target.label} {name}, repeat {repeat}: {exc}")
                        console.print(f" [red]failed: {exc}[/]", soft_wrap=True)
                        continue
                    runs[target.dialect][name].append(figures)
                    console.print(" " + _brief(figures), soft_wrap=True, highlight=False)
        for target in targets:
            try:
                modules[target.dialect] = worker_modules(target, config)
            except BenchError as exc:
                errors.append(f"{target.label} worker modules: {exc}")
        described = {t.dialect: t.describe() for t in targets}
    finally:
        for target in targets:
            target.close()
    effective = make_deck("sqlite:///unused.db", **config.settings).settings
    return {
        "kind": "jobdeck-core",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "machine": describe_machine(load_before),
        "config": {**config.__dict__, "repeats": repeats},
        "worker_settings": {
            "concurrency": config.concurrency,
            "fetch_batch_max": effective.fetch_batch_max,
            "complete_batch_max": effective.complete_batch_max,
            "complete_flush_interval": effective.complete_flush_interval,
            "poll_interval": effective.poll_interval,
        },
        "cpu_reference_ms": statistics.median(cpu_ms),
        "targets": described,
        "skipped": skipped,
        "errors": errors,
        "median": {dialect: medians(by_workload) for dialect, by_workload in runs.items()},
        "runs": runs,
        "worker_modules": modules,
    }


def medians(by_workload: dict[str, list[dict[str, float]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for workload, figures in by_workload.items():
        for key in figures[0] if figures else {}:
            out[f"{workload}.{key}"] = statistics.median(f[key] for f in figures)
    return out


def _brief(figures: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:,.4g}" for k, v in figures.items())


def render(result: dict[str, Any]) -> Table:
    config = result["config"]
    dialects = [d for d in ("sqlite", "postgres") if d in result["median"]]
    labels = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    table = Table(title=f"jobdeck core benchmarks, {result['date'][:10]}")
    table.add_column("workload")
    table.add_column("unit")
    for dialect in dialects:
        table.add_column(labels[dialect], justify="right")
    for name, reason in result["skipped"].items():
        table.add_column(labels.get(name, name), justify="right")
        console.print(f"[yellow]{labels.get(name, name)} skipped: {reason}[/]", soft_wrap=True)
    for key, label, unit, _higher in ROWS:
        cells = []
        for dialect in dialects:
            median = result["median"][dialect].get(key)
            workload, _, figure = key.partition(".")
            values = [r[figure] for r in result["runs"][dialect].get(workload, [])]
            if median is None:
                cells.append("-")
            elif len(values) > 1:
                cells.append(
                    f"{number(median)} [dim]({number(min(values))}-{number(max(values))})[/]"
                )
            else:
                cells.append(number(median))
        cells += ["n/a"] * len(result["skipped"])
        table.add_row(label.format(chunk=f"{config['chunk']:,}"), unit, *cells)
    return table


def notes(result: dict[str, Any]) -> list[str]:
    """The conditions behind the figures, printed under the table."""
    config, settings, machine = result["config"], result["worker_settings"], result["machine"]
    spread = f"median of {config['repeats']} (min-max)" if config["repeats"] > 1 else "1 run"
    lines = [
        f"{config['jobs']:,} no-op jobs per workload, {spread}, each on a fresh database.",
        f"worker: 1 process, concurrency={settings['concurrency']}, "
        f"fetch_batch_max={settings['fetch_batch_max']}, "
        f"complete_batch_max={settings['complete_batch_max']}, "
        f"complete_flush_interval={settings['complete_flush_interval']:g} s.",
        "drain jobs/s: first attempt start to last attempt finish (store timestamps); "
        "wall time: process spawn to nothing unfinished.",
        f"latency: {config['latency_jobs']} single enqueues at {config['latency_rate']:g}/s "
        "into an idle worker; attempts.started_at - jobs.enqueued_at.",
    ]
    for dialect, info in result["targets"].items():
        if dialect == "sqlite":
            lines.append(
                f"SQLite {info['sqlite_version']}: WAL, synchronous={info['synchronous']}, "
                "temp file on local disk."
            )
        else:
            lines.append(
                f"PostgreSQL {info['server_version']}: fsync={info['fsync']}, "
                f"synchronous_commit={info['synchronous_commit']}, "
                f"shared_buffers={info['shared_buffers']}, 127.0.0.1."
            )
    for dialect, modules in result["worker_modules"].items():
        lines.append(
            f"worker process on {dialect} imports {modules['count']} modules; third-party: "
            + ", ".join(modules["top_level_third_party"])
        )
    lines.append(
        f"machine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}; "
        f"CPU reference loop {result['cpu_reference_ms']:.0f} ms; run took "
        f"{result['elapsed_s']:.0f} s; load average {machine['loadavg_before'][0]:.2f} before, "
        f"{machine['loadavg_after'][0]:.2f} after."
    )
    cores = machine["cores"] or 1
    busiest = max(machine["loadavg_before"][0], machine["loadavg_after"][0])
    if busiest > cores / 2:
        lines.append(
            f"warning: load average reached {busiest:.2f} on {cores} cores during the run: "
            "other processes shared the machine, expect noisy figures (see the ranges)."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    out = Console()
    if not out.is_terminal:  # piped or captured: do not wrap the table at 80 columns
        out = Console(width=140)
    out.print(render(result))
    for line in notes(result):
        out.print(f"  {line}", highlight=False, soft_wrap=True)
    for error in result["errors"]:
        out.print(f"[red]  error: {error.splitlines()[0]}[/]", highlight=False, soft_wrap=True)
    if not args.no_json:
        suffix = "-quick" if args.quick else ""
        path = args.output or RESULTS / f"core-{result['date'][:10]}{suffix}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        console.print(f"wrote {path}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
