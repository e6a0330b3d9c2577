"""Where a job's microseconds go on the default path, step by step, per store.

    .venv/bin/python bench/job_path.py [--dialect sqlite|postgres|both] [--jobs 5000]

Each step is timed on its own, in this process, with the code a worker and a producer run:

- enqueue: ``task.enqueue()`` one job at a time (the public call), and the store's
  ``insert_jobs`` of one job alone (the statement and its commit): the difference is jobdeck's
  own Python (argument checks, JSON, the NewJob);
- claim: ``store.claim_jobs`` at the batch sizes a default worker asks for (10 free slots, and
  up to 100 with claim-ahead: a whole ``fetch_batch_max``), per claim and per job;
- run: the worker's executors (thread slots, the job context, the outcome) running no-op jobs
  handed over one batch at a time, their outcomes collected in memory instead of written;
- complete: ``store.complete_jobs`` of those outcomes at the batch sizes the completer writes.

The sum is the cost of one job on one worker with no overlap; a real worker overlaps the claim,
the runs and the completion on different threads, so its drain is faster than 1/sum.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.app import NOOP_TASK, make_deck
from bench.targets import DEFAULT_PG_ADMIN_URL, PostgresTarget, SQLiteTarget, Target
from jobdeck.store.base import ClaimRequest, NewJob, Outcome
from jobdeck.worker.execution import success_outcome
from jobdeck.worker.executors import Executors

WORKER = "bench-path"
RUN = "run: executors, no-op job, outcome built"
# A default worker claiming ahead takes a whole fetch_batch_max (worker/pacing.py).
AHEAD_BATCH = 100
AHEAD_CLAIM = "claim: 100 per statement (claim-ahead)"


class Collector:
    """The completer's ``add``, keeping outcomes in memory: the run step without the write."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.expected = 0

    def reset(self, expected: int) -> None:
        self.outcomes, self.expected = [], expected
        self.done.clear()

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)
            if len(self.outcomes) >= self.expected:
                self.done.set()


def per_job_us(seconds: float, jobs: int) -> float:
    return seconds / jobs * 1e6


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(url: str, jobs: int) -> dict[str, float]:
    deck = make_deck(url)
    deck.migrate()
    store, settings = deck.store, deck.settings
    task = deck.tasks[NOOP_TASK]
    one = NewJob(task=NOOP_TASK)
    figures = {
        "enqueue: task.enqueue()": per_job_us(
            timed(lambda: [task.enqueue() for _ in range(jobs)]), jobs
        ),
        "enqueue: its insert statement alone": per_job_us(
            timed(lambda: [store.insert_jobs([one]) for _ in range(jobs)]), jobs
        ),
    }
    claim, run, complete = [], [], []
    collector = Collector()
    executors = Executors(deck.tasks, settings, WORKER, collector)  # type: ignore[arg-type]
    executors.start()
    for _ in range(jobs // 10):
        batch, took = claim_timed(store, 10)
        claim.append(took / 10)
        outcomes, took = run_timed(executors, collector, batch)
        run.append(took / len(batch))
        complete.append(timed(lambda o=outcomes: store.complete_jobs(WORKER, o, 0)) / len(batch))
    executors.stop()
    figures["claim: 10 per statement"] = statistics.median(claim) * 1e6
    figures[RUN] = statistics.median(run) * 1e6
    figures["complete: 10 outcomes per statement"] = statistics.median(complete) * 1e6
    # The rest, claimed 100 at a time (a default worker claiming ahead) and completed 500 at a
    # time (the completer's largest batch).
    ahead, pending = [], []
    while True:
        batch, took = claim_timed(store, AHEAD_BATCH)
        if len(batch) < AHEAD_BATCH:
            pending += batch
            break
        ahead.append(took / AHEAD_BATCH)
        pending += batch
    now = datetime.now(UTC)
    outcomes = [success_outcome(job, None, now, settings, task) for job in pending]
    big = [outcomes[i : i + 500] for i in range(0, len(outcomes) - 499, 500)]
    figures[AHEAD_CLAIM] = statistics.median(ahead) * 1e6
    figures["complete: 500 outcomes per statement"] = (
        statistics.median(timed(lambda b=b: store.complete_jobs(WORKER, b, 0)) for b in big)
        / 500
        * 1e6
    )
    deck.close()
    return figures


def claim_timed(store: Any, size: int) -> tuple[list[Any], float]:
    request = ClaimRequest(WORKER, ("default",), size, 30.0)
    start = time.perf_counter()
    batch = store.claim_jobs(request)
    return batch, time.perf_counter() - start


def run_timed(
    executors: Executors, collector: Collector, batch: list[Any]
) -> tuple[list[Outcome], float]:
    """Run one claimed batch through the worker's executors; outcomes are kept, not written."""
    collector.reset(len(batch))
    start = time.perf_counter()
    for job in batch:
        executors.dispatch(job)
    collector.done.wait(10)
    return collector.outcomes, time.perf_counter() - start


# The steps one job takes in turn, at a default worker's batch sizes without and with
# claiming ahead.
PATHS = {
    "claim 10 + run + complete 10": (
        "claim: 10 per statement",
        RUN,
        "complete: 10 outcomes per statement",
    ),
    "claim 100 + run + complete 500": (
        AHEAD_CLAIM,
        RUN,
        "complete: 500 outcomes per statement",
    ),
}


def report(dialect: str, figures: dict[str, float]) -> None:
    print(f"\n{dialect}: microseconds per job")
    for name, value in figures.items():
        print(f"  {name:<48} {value:8.1f}")
    for label, steps in PATHS.items():
        total = sum(figures[step] for step in steps)
        print(f"  {label:<48} {total:8.1f}  = {1e6 / total:,.0f} jobs/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    dialects = ["sqlite", "postgres"] if args.dialect == "both" else [args.dialect]
    for dialect in dialects:
        target: Target = (
            SQLiteTarget() if dialect == "sqlite" else PostgresTarget(args.pg_admin_url)
        )
        url = target.fresh()
        try:
            report(dialect, measure(url, args.jobs))
        finally:
            target.discard(url)
            target.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
