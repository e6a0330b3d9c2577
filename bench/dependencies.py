"""Job dependencies' cost on the completion path, store calls in one process: claim and
complete N jobs in batches of 100 when no job has children (the path every deck without
dependencies takes), and when each has one waiting child (its completion settles the child).

    .venv/bin/python bench/dependencies.py                  # both dialects, 10,000 jobs
    .venv/bin/python bench/dependencies.py --dialect sqlite --jobs 2000
    PYTHONPATH=<older checkout>/src .venv/bin/python bench/dependencies.py --plain-only
                                        # the no-children case on code before dependencies

Prints the seconds spent in complete_jobs alone, fastest of --repeats, per case and dialect.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable for bench.*
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.targets import DEFAULT_PG_ADMIN_URL, PostgresTarget, SQLiteTarget, Target
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store import open_store
from jobdeck.store.base import ClaimRequest, NewJob, Outcome, Store

BATCH = 100


def seed(store: Store, jobs: int, with_children: bool) -> None:
    for start in range(0, jobs, 1000):
        parents = store.insert_jobs([NewJob("parent") for _ in range(min(1000, jobs - start))])
        if with_children:
            # Children in another queue, so that the drain below claims the parents only.
            children = [NewJob("child", queue="later", after=(r.job_id,)) for r in parents]
            store.insert_jobs(children)


def completion_seconds(store: Store) -> float:
    """Claim everything due in the default queue, BATCH at a time; time the completions."""
    spent = 0.0
    while claimed := store.claim_jobs(ClaimRequest("bench", ["default"], BATCH, 60.0)):
        now = datetime.now(UTC)
        outcomes = [
            Outcome(
                job.id,
                job.attempt,
                job.task,
                AttemptStatus.SUCCEEDED,
                JobState.SUCCEEDED,
                job.started_at,
                now,
                result_json="null",
            )
            for job in claimed
        ]
        began = time.perf_counter()
        store.complete_jobs("bench", outcomes, shard=1)
        spent += time.perf_counter() - began
    return spent


def measure(target: Target, jobs: int, repeats: int, plain_only: bool) -> dict[str, float]:
    cases = [("no children", False)] + ([] if plain_only else [("one child each", True)])
    best: dict[str, float] = {}
    for _ in range(repeats):
        for case, with_children in cases:
            url = target.fresh()
            store = open_store(url)
            try:
                seed(store, jobs, with_children)
                spent = completion_seconds(store)
            finally:
                store.close()
                target.discard(url)
            best[case] = min(best.get(case, spent), spent)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--plain-only", action="store_true", help="only the no-children case")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args()
    targets: list[Target] = []
    if args.dialect in ("sqlite", "both"):
        targets.append(SQLiteTarget())
    if args.dialect in ("postgres", "both"):
        targets.append(PostgresTarget(args.pg_admin_url))
    for target in targets:
        try:
            for case, seconds in measure(target, args.jobs, args.repeats, args.plain_only).items():
                rate = args.jobs / seconds
                print(f"{target.label:<11} {case:<15} {seconds:7.3f} s  {rate:9,.0f} jobs/s")
        finally:
            target.close()


if __name__ == "__main__":
    main()
