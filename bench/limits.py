"""The limits' benchmarks: a 5-slot concurrency limit under 8 worker processes (the highest
concurrency ever observed, which must be 5) and a 100/s rate limit under 2 (the achieved rate
and its jitter), on SQLite and PostgreSQL.

    .venv/bin/python bench/limits.py                    # both dialects
    .venv/bin/python bench/limits.py --dialect sqlite --jobs 300

Each run records every execution's wall-clock start and end from inside the task, so the
concurrency figure is what really ran at once, not what the store believed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo root importable for bench.*
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.app import RATE, RATED_TASK, SLOT_LIMIT, SLOT_TASK, make_deck
from bench.targets import DEFAULT_PG_ADMIN_URL, PostgresTarget, SQLiteTarget, Target
from bench.workloads import BenchError, Config, WorkerProcess

SETTINGS = {"poll_interval": 0.05, "heartbeat_interval": 1.0, "lease_duration": 10.0}


def read_runs(log: Path) -> list[tuple[float, float]]:
    if not log.exists():
        return []
    lines = [line.split() for line in log.read_text().split("\n") if line]
    return [(float(begun), float(ended)) for begun, ended in lines]


def peak_overlap(runs: list[tuple[float, float]]) -> int:
    edges = sorted([(b, 1) for b, _ in runs] + [(e, -1) for _, e in runs])  # ends sort first
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def run_workers(
    target: Target, task: str, jobs: int, workers: int, seconds: float
) -> list[tuple[float, float]]:
    url = target.fresh()
    folder = Path(tempfile.mkdtemp(prefix="jd_bench_limits_"))
    log = folder / "runs.log"
    env = {"JOBDECK_BENCH_LIMITS": "1"}
    started: list[WorkerProcess] = []
    try:
        os.environ["JOBDECK_BENCH_LIMITS"] = "1"  # this process enqueues the limited tasks too
        deck = make_deck(url)
        deck.get_task(task).enqueue_many([{"log": str(log), "seconds": seconds}] * jobs)
        deck.close()
        config = Config(concurrency=4, settings=SETTINGS)
        started = [WorkerProcess(url, config, extra_env=env) for _ in range(workers)]
        deadline = time.monotonic() + 300
        while len(read_runs(log)) < jobs:
            for worker in started:
                worker.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"only {len(read_runs(log))} of {jobs} jobs ran in 300 s")
            time.sleep(0.05)
        return read_runs(log)
    finally:
        for worker in started:
            worker.stop(timeout=10)
        target.discard(url)


def concurrency_limit(target: Target, jobs: int) -> dict[str, Any]:
    runs = run_workers(target, SLOT_TASK, jobs, workers=8, seconds=0.02)
    span = max(e for _, e in runs) - min(b for b, _ in runs)
    return {
        "limit": SLOT_LIMIT,
        "workers": 8,
        "jobs": jobs,
        "peak_concurrency": peak_overlap(runs),
        "jobs_per_s": jobs / span,
    }


def rate_limit(target: Target, jobs: int) -> dict[str, Any]:
    runs = run_workers(target, RATED_TASK, jobs, workers=2, seconds=0.0)
    starts = sorted(b for b, _ in runs)
    gaps_ms = [(b - a) * 1000 for a, b in itertools.pairwise(starts)]
    per_second = [sum(1 for s in starts if t <= s < t + 1) for t in _seconds(starts)]
    return {
        "limit_per_s": RATE,
        "workers": 2,
        "jobs": jobs,
        "achieved_per_s": (len(starts) - 1) / (starts[-1] - starts[0]),
        "gap_mean_ms": statistics.mean(gaps_ms),
        "gap_stdev_ms": statistics.stdev(gaps_ms),
        "gap_min_ms": min(gaps_ms),
        "gap_p99_ms": sorted(gaps_ms)[int(len(gaps_ms) * 0.99)],
        "most_in_any_1s": max(per_second),
    }


def _seconds(starts: list[float]) -> list[float]:
    """Window starts for 'most starts in any one second': at every start until the last second."""
    return [s for s in starts if s + 1 <= starts[-1]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    targets: list[Target] = []
    if args.dialect in ("sqlite", "both"):
        targets.append(SQLiteTarget())
    if args.dialect in ("postgres", "both"):
        targets.append(PostgresTarget(args.pg_admin_url))
    results: dict[str, Any] = {}
    for target in targets:
        results[target.dialect] = {
            "concurrency_limit": concurrency_limit(target, args.jobs),
            "rate_limit": rate_limit(target, args.jobs),
        }
        target.close()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
