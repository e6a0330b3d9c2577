"""A worker on a thread runs sync, async and process tasks, records every attempt, and retries
failures with growing, jittered backoff."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from jobdeck import JobDeck
from jobdeck.states import AttemptStatus, JobState
from tests.worker import apps
from tests.worker.helpers import ROOT, running_worker


def _stats(deck: JobDeck) -> dict[str, tuple[int, int]]:
    now = datetime.now(UTC)
    rows = deck.store.stats_by_task(now - timedelta(hours=1), now + timedelta(minutes=2))
    return {row.key: (row.succeeded, row.failed) for row in rows}


def test_sync_and_async_tasks_succeed_and_every_attempt_is_recorded(deck: JobDeck) -> None:
    sync = deck.get_task("echo").enqueue(value=[1, "two", {"three": 3.5}], summary="done it")
    async_ = deck.get_task("echo_async").enqueue(value={"k": None})
    with running_worker(deck) as worker:
        sync.wait(10)
        async_.wait(10)

    assert sync.state == JobState.SUCCEEDED == "succeeded"
    assert sync.result == {"value": [1, "two", {"three": 3.5}], "summary": "done it"}
    assert sync.row.summary == "done it"
    assert async_.state == "succeeded"
    assert async_.result == {"value": {"k": None}, "summary": "async ok"}
    assert async_.row.summary == "async ok"

    for handle in (sync, async_):
        job = handle.row
        [attempt] = deck.store.get_attempts(handle.id)
        assert job.attempt == 1 and job.error is None
        assert attempt.attempt == 1
        assert attempt.status == AttemptStatus.SUCCEEDED
        assert attempt.worker_id == worker.id
        assert attempt.error is None and attempt.traceback is None
        assert attempt.finished_at is not None and attempt.duration_ms is not None
        assert job.enqueued_at <= attempt.started_at <= attempt.finished_at
        elapsed_ms = (attempt.finished_at - attempt.started_at).total_seconds() * 1000
        assert abs(attempt.duration_ms - elapsed_ms) <= 1
        # The job row shows its latest attempt's times (the task list's Started/Finished).
        assert (job.started_at, job.finished_at) == (attempt.started_at, attempt.finished_at)
        assert job.duration_ms == attempt.duration_ms

    # The per-minute rollups were updated by the same completion write.
    assert _stats(deck) == {"echo": (1, 0), "echo_async": (1, 0)}


def test_process_task_runs_in_a_child_process(deck: JobDeck) -> None:
    handle = deck.get_task("square").enqueue(n=12)
    with running_worker(deck):
        handle.wait(20)
    assert handle.state == "succeeded", handle.error
    assert handle.result["square"] == 144
    assert handle.result["pid"] != os.getpid()


def test_a_raising_task_records_error_and_traceback_and_fails_after_max_attempts(
    deck: JobDeck,
) -> None:
    handle = deck.get_task("boom").options(max_attempts=3).enqueue(message="kaboom\nsecond line")
    good = deck.get_task("echo").enqueue(value="after")
    with running_worker(deck) as worker:
        handle.wait(15)
        good.wait(10)

    job = handle.row
    assert job.state == JobState.FAILED
    assert job.attempt == job.max_attempts == 3
    assert job.error == "ValueError: kaboom"  # one line: the first line of the message
    attempts = deck.store.get_attempts(handle.id)
    assert [a.attempt for a in attempts] == [1, 2, 3]
    for attempt in attempts:
        assert attempt.status == AttemptStatus.FAILED
        assert attempt.worker_id == worker.id
        assert attempt.error == "ValueError: kaboom"
        trace = attempt.traceback or ""
        assert trace.startswith("Traceback (most recent call last):")
        # The full traceback: the task, the helper that raised, and the whole message.
        assert "in boom" in trace and "in _explode" in trace
        assert "raise ValueError(message)" in trace
        assert trace.rstrip().endswith("ValueError: kaboom\nsecond line")
    # A failing job fails its own attempts only: the next job ran fine.
    assert good.state == "succeeded"
    # Failed counts include the attempts that were retried.
    assert _stats(deck)["boom"] == (0, 3)


def test_retries_back_off_exponentially_with_jitter(deck: JobDeck) -> None:
    base = 0.3
    deck.task(name="boom_backoff", retry_backoff=base, max_attempts=4)(apps.boom)
    handle = deck.get_task("boom_backoff").enqueue()
    with running_worker(deck, poll_interval=0.05):
        handle.wait(20)

    assert handle.state == "failed"
    attempts = deck.store.get_attempts(handle.id)
    assert [a.attempt for a in attempts] == [1, 2, 3, 4]
    gaps = []
    for before, after in itertools.pairwise(attempts):
        assert before.finished_at is not None
        gaps.append((after.started_at - before.finished_at).total_seconds())
    for number, gap in enumerate(gaps, start=1):
        nominal = base * 2 ** (number - 1)  # 0.3, 0.6, 1.2
        # run_at = failure time + nominal * U(0.75, 1.25); a claim never starts before run_at,
        # and an idle worker polls every 0.05 s (plus the time to write and claim).
        assert nominal * 0.75 <= gap <= nominal * 1.25 + 0.3, (number, gaps)
    assert gaps[2] > gaps[0]


def test_jobs_are_claimed_by_priority_then_run_at(deck: JobDeck) -> None:
    echo = deck.get_task("echo")
    now = datetime.now(UTC)
    low_old = echo.options(run_at=now - timedelta(minutes=2)).enqueue(value="low, older")
    low_new = echo.options(run_at=now - timedelta(minutes=1)).enqueue(value="low, newer")
    high = echo.options(priority=5).enqueue(value="high")
    later = echo.options(delay=60).enqueue(value="not due")
    with running_worker(deck, concurrency=1):
        for handle in (low_old, low_new, high):
            handle.wait(10)
    started = {h.id: deck.store.get_attempts(h.id)[0].started_at for h in (low_old, low_new, high)}
    assert sorted(started, key=started.__getitem__) == [high.id, low_old.id, low_new.id]
    assert later.refresh().state == JobState.SCHEDULED


WEB_STACK = ("fastapi", "pydantic", "starlette", "jinja2", "uvicorn", "multipart")

WORKER_IMPORTS = """
import json, sys, threading
import jobdeck.cli
from tests.worker.apps import make_deck
deck = make_deck(sys.argv[1], heartbeat_interval=0.2, lease_duration=1.0)
worker = deck.worker()
thread = threading.Thread(target=worker.run, kwargs={"install_signals": False})
thread.start()
worker.wait_started()
deck.tasks["echo"].enqueue(value=2).wait(10)
worker.stop()
thread.join(10)
print(json.dumps(sorted(name.split(".")[0] for name in sys.modules)))
"""


def test_a_worker_does_not_import_the_web_stack(db_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WORKER_IMPORTS, db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert not loaded & set(WEB_STACK), sorted(loaded & set(WEB_STACK))
