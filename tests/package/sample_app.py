"""The app a new user writes after ``pip install jobdeck``, copied into a fresh venv's folder.

Importable as ``sample_app:deck`` (for ``jobdeck dashboard --app``); run as a script
(``python sample_app.py COUNT [DATABASE_URL]``) it works off a batch of jobs on a real worker
and prints, as JSON, how each ended and which heavy modules the process loaded. It imports
jobdeck only, so it runs wherever jobdeck's core does.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import jobdeck
from jobdeck import JobDeck
from jobdeck.worker.scheduler import Scheduler

# What a worker must never load just by running tasks: the web stack, parsers, cloud SDKs.
HEAVY = (
    "fastapi",
    "starlette",
    "pydantic",
    "jinja2",
    "uvicorn",
    "multipart",
    "argon2",
    "boto3",
    "pypdf",
    "docx",
    "psycopg",
    "aiosmtpd",
    "prometheus_client",
    "apprise",
    "opentelemetry",
)
SCHEDULE = "nightly-report"
DEADLINE = 60.0

deck = JobDeck(
    f"sqlite:///{Path(__file__).with_name('jobs.db')}",
    poll_interval=0.05,
    backoff_base=0.05,
    heartbeat_interval=0.5,
)


@deck.task(name="add")
def add(a: int, b: int) -> dict[str, Any]:
    return {"sum": a + b, "summary": f"{a} + {b} = {a + b}"}


@deck.task(name="greet")
async def greet(name: str) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"summary": f"hello {name}"}


@deck.task(name="charge_card", max_attempts=2)
def charge_card(card: str) -> None:
    raise RuntimeError(f"card {card} declined")


@deck.periodic(name=SCHEDULE, cron="0 3 * * *")
def nightly_report() -> dict[str, Any]:
    return {"summary": "0 rows"}


def enqueue_batch(total: int) -> list[jobdeck.JobHandle]:
    """``total`` jobs: every third one fails on both attempts, the rest succeed."""
    handles = []
    for i in range(total):
        if i % 3 == 2:
            handles.append(charge_card.enqueue(card=f"4000-{i:04d}"))
        elif i % 3 == 1:
            handles.append(greet.enqueue(name=f"user{i}"))
        else:
            handles.append(add.enqueue(a=i, b=1))
    return handles


def wait_final(handles: list[jobdeck.JobHandle]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not all(handle.refresh().state.is_final for handle in handles):
        if time.monotonic() >= deadline:
            pending = [h for h in handles if not h.state.is_final]
            raise SystemExit(f"sample_app: {len(pending)} jobs unfinished after {DEADLINE} s")
        time.sleep(0.05)


def main(total: int, database_url: str | None) -> None:
    if database_url:
        deck.use_database(database_url)
    deck.migrate()
    # The schedule is synced (cronsim computes its next tick) but its loop stays off, so a run
    # at 03:00 UTC cannot add a tick to the batch; Run Now below runs it once.
    Scheduler(deck).sync()
    handles = enqueue_batch(total)
    worker = deck.worker(scheduler_enabled=False)
    thread = threading.Thread(target=worker.run, kwargs={"install_signals": False})
    thread.start()
    try:
        if not worker.wait_started(30):
            raise SystemExit("sample_app: the worker did not start")
        handles.append(deck.run_now(SCHEDULE, by="sample_app")[0])
        wait_final(handles)
    finally:
        worker.stop()
        thread.join(30)
    report = {
        "jobdeck": jobdeck.__file__,
        "worker_stopped": not thread.is_alive(),
        "jobs": [[h.row.task, h.state.value, h.row.attempt] for h in handles],
        "heavy": sorted(name for name in HEAVY if name in sys.modules),
    }
    deck.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
