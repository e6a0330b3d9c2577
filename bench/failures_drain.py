"""One worker process draining jobs that all fail (``bench.fail``, one attempt each, ids in
the message): what writing each failure's error group in the completer's batch costs.

    .venv/bin/python bench/failures_drain.py [--jobs 20000] [--repeats 3] [--dialect both]

jobs/s spans the first attempt's start to the last one's finish, as ``run.py``'s drain row.
Every failure is fingerprinted by the worker and lands in one error group.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable for bench.*
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.app import FAIL_TASK, make_deck
from bench.targets import DEFAULT_PG_ADMIN_URL, PostgresTarget, SQLiteTarget, Target
from bench.workloads import Config, WorkerProcess, wait_until


def drain_failures(target: Target, config: Config) -> float:
    url = target.fresh()
    probe = target.probe(url)
    worker = None
    try:
        deck = make_deck(url)
        task = deck.tasks[FAIL_TASK]
        for start in range(0, config.jobs, 1_000):
            task.enqueue_many([{"n": n} for n in range(start, min(config.jobs, start + 1_000))])
        deck.close()
        worker = WorkerProcess(url, config)
        wait_until(
            "the drain to finish",
            lambda: not probe.has_unfinished(),
            config.drain_timeout,
            config.poll,
            worker,
        )
        worker.stop()
        worker = None
        failed = probe.count_state("failed")
        if failed != config.jobs:
            raise SystemExit(f"expected {config.jobs} failed jobs, found {failed}")
        first, last = probe.drain_span()
    finally:
        if worker is not None:
            worker.stop(timeout=5)
        probe.close()
        target.discard(url)
    return config.jobs / (last - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dialect", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    config = Config(jobs=args.jobs)
    targets: list[Target] = []
    if args.dialect in ("sqlite", "both"):
        targets.append(SQLiteTarget())
    if args.dialect in ("postgres", "both"):
        targets.append(PostgresTarget(DEFAULT_PG_ADMIN_URL))
    try:
        for target in targets:
            rates = [drain_failures(target, config) for _ in range(args.repeats)]
            shown = ", ".join(f"{r:,.0f}" for r in rates)
            name = type(target).__name__.removesuffix("Target")
            print(
                f"{name:<10} failing drain: median {statistics.median(rates):,.0f} jobs/s ({shown})"
            )
            time.sleep(0.5)
    finally:
        for target in targets:
            target.close()


if __name__ == "__main__":
    main()
