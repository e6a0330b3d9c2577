"""Faults fail one attempt and nothing else: timeouts of each executor, results that are not JSON,
unknown tasks, an unmigrated database, late writes of a rescued attempt, killed connections."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from jobdeck import JobDeck, ManualClock
from jobdeck.errors import SchemaError
from jobdeck.settings import Settings
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store import open_store
from jobdeck.store.base import ClaimRequest, NewJob, Outcome, RescuedJob
from jobdeck.worker.pools import STOP_WAIT_S
from jobdeck.worker.upkeep import Rescuer
from tests.worker import apps
from tests.worker.helpers import (
    FAST,
    count_in,
    process_gone,
    read_events,
    running_worker,
    starts,
    store_reads,
    wait_until,
)

# -- timeouts ------------------------------------------------------------------------------------


def test_sync_task_past_its_timeout_fails_and_its_slot_is_replaced(deck: JobDeck) -> None:
    stuck = deck.get_task("stuck").options(timeout=0.5, max_attempts=1).enqueue()
    with running_worker(deck, concurrency=1):
        wait_until(lambda: apps.STUCK, 5, "the stuck task to start")
        after = deck.get_task("echo").enqueue(value="next")
        after.wait(10)
        # The one slot was taken by a thread that is still stuck: a new thread ran the next job.
        assert apps.STUCK, "the stuck thread was released early"
        stuck.wait(5)

    assert after.state == "succeeded"
    assert stuck.state == JobState.FAILED
    assert stuck.error == "TimeoutError: timed out after 0.5 s"
    [attempt] = deck.store.get_attempts(stuck.id)
    assert attempt.status == AttemptStatus.FAILED
    assert attempt.error == "TimeoutError: timed out after 0.5 s"
    assert attempt.duration_ms is not None and 500 <= attempt.duration_ms < 2000


def test_a_worker_whose_stuck_threads_pile_up_restarts_itself(deck: JobDeck) -> None:
    stuck = deck.get_task("stuck").options(timeout=0.3, max_attempts=1)
    handles = [stuck.enqueue(), stuck.enqueue()]
    with running_worker(deck, concurrency=2, max_abandoned_threads=1) as worker:
        for handle in handles:
            handle.wait(10)
        wait_until(lambda: worker.exit_reason == "restart", 5, "the worker to ask for a restart")
    assert [h.state for h in handles] == ["failed", "failed"]


def test_async_task_is_cancelled_at_its_timeout(deck: JobDeck) -> None:
    handle = deck.get_task("hang_async").options(timeout=0.3, max_attempts=1).enqueue(tag="t1")
    with running_worker(deck):
        handle.wait(10)
        wait_until(lambda: apps.CANCELLED, 5, "the coroutine to see its cancellation")
    assert handle.state == "failed"
    assert handle.error == "TimeoutError: timed out after 0.3 s"
    assert apps.CANCELLED == ["t1"]
    [attempt] = deck.store.get_attempts(handle.id)
    assert attempt.traceback and "CancelledError" in attempt.traceback
    assert attempt.duration_ms is not None and 300 <= attempt.duration_ms < 2000


# Slow, so it runs beside one other test process: its shutdown is timed, which a machine
# loaded by 4 of them made late.
@pytest.mark.slow
def test_an_async_task_that_swallows_its_cancellation_still_times_out(deck: JobDeck) -> None:
    swallow = deck.get_task("swallow_cancel").options(timeout=0.3, max_attempts=1)
    handle = swallow.enqueue(tag="s1")
    with running_worker(deck, concurrency=1):
        handle.wait(10)
        # Its one slot is free again although the coroutine still runs on the worker's loop.
        after = deck.get_task("echo").enqueue(value="next")
        after.wait(10)
        assert apps.CANCELLED and not apps.RELEASE.is_set(), "the coroutine ended early"
        # Shutdown keeps its grace with the coroutine still refusing to end.
        stuck_at_stop = swallow.options(timeout=None).enqueue(tag="s2")
        wait_until(lambda: stuck_at_stop.refresh().state == JobState.RUNNING, 10, "s2 to run")
        stopping = time.monotonic()  # the block's end stops the worker and joins it
    took = time.monotonic() - stopping
    # The grace, then the loop's bounded wait for the coroutine it cancelled (the orders
    # listener's wait is woken at stop); then 1 s for the rest.
    bound = FAST["shutdown_grace"] + STOP_WAIT_S + 1.0
    assert took < bound, f"shutdown took {took:.1f} s"
    assert handle.state == JobState.FAILED
    assert handle.error == "TimeoutError: timed out after 0.3 s"
    assert after.state == JobState.SUCCEEDED
    assert stuck_at_stop.refresh().state == JobState.AVAILABLE  # handed back at the grace


# Slow, so it runs beside one other test process: its task process must start within the
# 1.5 s timeout, which a machine loaded by 4 of them missed.
@pytest.mark.slow
def test_process_task_is_killed_at_its_timeout(deck: JobDeck, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    handle = (
        deck.get_task("hang_process")
        .options(timeout=1.5, max_attempts=1)
        .enqueue(pid_file=str(pid_file))
    )
    with running_worker(deck):
        handle.wait(20)
    assert handle.state == "failed"
    assert handle.error == "TimeoutError: timed out after 1.5 s"
    child = int(pid_file.read_text())
    wait_until(lambda: process_gone(child), 5, f"task process {child} to be gone")
    [attempt] = deck.store.get_attempts(handle.id)
    assert attempt.duration_ms is not None and 1500 <= attempt.duration_ms < 5000


def test_ctrl_c_reaching_a_process_task_lets_it_finish(deck: JobDeck, tmp_path: Path) -> None:
    import os
    import signal

    pid_file = tmp_path / "child.pid"
    task = deck.get_task("hang_process").options(max_attempts=1)
    handle = task.enqueue(pid_file=str(pid_file), seconds=1.0)
    with running_worker(deck):
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), 20, "the task process")
        # A terminal's Ctrl-C signals the whole process group; the worker drains, so the
        # running job must finish rather than die of the signal.
        os.kill(int(pid_file.read_text()), signal.SIGINT)
        handle.wait(20)
    assert (handle.state, handle.result) == ("succeeded", "woke up")


# -- bad jobs ------------------------------------------------------------------------------------


def test_a_result_that_is_not_json_fails_that_attempt_only(deck: JobDeck) -> None:
    bad = deck.get_task("bad_result").options(max_attempts=2).enqueue()
    good = deck.get_task("echo").enqueue(value="fine")
    with running_worker(deck):
        bad.wait(10)
        good.wait(10)
    assert bad.state == "failed"
    assert bad.result is None
    assert bad.error is not None and "result.when: datetime is not JSON serialisable" in bad.error
    attempts = deck.store.get_attempts(bad.id)
    assert [a.status for a in attempts] == [AttemptStatus.FAILED, AttemptStatus.FAILED]
    assert all("result.when: datetime" in (a.error or "") for a in attempts)
    assert good.state == "succeeded" and good.result["value"] == "fine"


def test_a_job_of_an_unknown_task_fails_readably_and_the_worker_keeps_going(
    deck: JobDeck,
) -> None:
    other = JobDeck(deck.database_url)  # an app that knows a task this worker does not

    @other.task(name="billing.send_invoice", max_attempts=1)
    def send_invoice(customer: int) -> None: ...

    unknown = send_invoice.enqueue(customer=7)
    other.close()
    with running_worker(deck):
        unknown.wait(10)
        after = deck.get_task("echo").enqueue(value="still working")
        after.wait(10)
    assert unknown.state == "failed"
    error = unknown.error or ""
    assert error.startswith("UnknownTask: this worker has no task named 'billing.send_invoice'")
    assert "\n" not in error
    assert after.state == "succeeded"


def test_a_worker_refuses_an_unmigrated_database(blank_db_url: str) -> None:
    deck = apps.make_deck(blank_db_url, **FAST)
    try:
        with pytest.raises(SchemaError, match="jobdeck db migrate"):
            deck.worker().run(install_signals=False)
    finally:
        deck.close()


def test_a_worker_refuses_a_database_newer_than_itself(db_url: str) -> None:
    future = "INSERT INTO jobdeck_migrations (version, name, applied_at) "
    future += "VALUES (9999, 'from_the_future', '2030-01-01 00:00:00')"
    if db_url.startswith("sqlite:"):
        import sqlite3

        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            conn.execute(future)
    else:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(future)
    deck = apps.make_deck(db_url, **FAST)
    try:
        with pytest.raises(SchemaError, match="newer than this jobdeck"):
            deck.worker().run(install_signals=False)
    finally:
        deck.close()


# -- fencing, deterministically ------------------------------------------------------------------


def _success(job_id: int, attempt: int, started: datetime, value: int) -> Outcome:
    return Outcome(
        job_id,
        attempt,
        "echo",
        AttemptStatus.SUCCEEDED,
        JobState.SUCCEEDED,
        started,
        started + timedelta(seconds=1),
        result_json=f'{{"value":{value}}}',
        summary=f"by {value}",
    )


def test_late_writes_of_a_rescued_attempt_change_nothing(db_url: str) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0)
    clock = ManualClock(t0 - timedelta(minutes=1))
    store = open_store(db_url, clock)
    try:
        job_id = store.insert_jobs([NewJob("echo", '{"value":1}', max_attempts=3)])[0].job_id
        # After a crash: worker "old" claimed the job and vanished; its lease ran out at t0 - 5 s.
        clock.set(t0 - timedelta(seconds=10))
        [old] = store.claim_jobs(ClaimRequest("old", ["default"], 10, 5.0))
        clock.set(t0)
        rescuer = Rescuer(store, Settings())
        rescuer.run_once()
        assert rescuer.rescued == 1 and not rescuer.failing

        job = store.get_job(job_id)
        assert job is not None and job.state == JobState.RETRYABLE and job.attempt == 1
        late = _success(job_id, old.attempt, old.started_at, value=666)
        # The old worker wakes up: its lease renewal, result and hand-back are all fenced.
        assert store.renew_leases("old", 30.0) == 0
        assert store.complete_jobs("old", [late], shard=1) == []
        assert store.hand_back_jobs("old", [(job_id, old.attempt)]) == 0
        assert store.get_job(job_id) == job

        [new] = store.claim_jobs(ClaimRequest("new", ["default"], 10, 30.0))
        assert new.attempt == 2
        # While the new attempt runs, a late write naming either attempt is refused.
        assert store.complete_jobs("old", [late], shard=1) == []
        assert store.complete_jobs("old", [_success(job_id, 2, t0, 667)], shard=1) == []
        assert store.complete_jobs("new", [_success(job_id, 2, t0, 2)], shard=2) == [job_id]
        assert store.complete_jobs("old", [late], shard=1) == []

        job = store.get_job(job_id)
        assert job is not None
        assert (job.state, job.attempt, job.worker_id) == (JobState.SUCCEEDED, 2, "new")
        assert job.result == {"value": 2} and job.summary == "by 2"
        attempts = store.get_attempts(job_id)
        assert [(a.attempt, a.status, a.worker_id) for a in attempts] == [
            (1, AttemptStatus.FAILED, "old"),
            (2, AttemptStatus.SUCCEEDED, "new"),
        ]
        assert "old" in (attempts[0].error or "") and "lost" in (attempts[0].error or "")
        # Fenced writes do not count in the stats either: one success, one failed (rescued).
        rows = store.stats_by_task(t0 - timedelta(hours=1), t0 + timedelta(hours=1))
        assert [(r.key, r.succeeded, r.failed) for r in rows] == [("echo", 1, 1)]
    finally:
        store.close()


def test_rescuing_the_last_attempt_fails_the_job(db_url: str) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0)
    clock = ManualClock(t0 - timedelta(minutes=1))
    store = open_store(db_url, clock)
    try:
        job_id = store.insert_jobs([NewJob("echo", max_attempts=1)])[0].job_id
        clock.set(t0 - timedelta(seconds=10))
        store.claim_jobs(ClaimRequest("old", ["default"], 10, 5.0))
        clock.set(t0)
        out_of_attempts: list[RescuedJob] = []
        Rescuer(store, Settings(), on_failed=out_of_attempts.append).run_once()
        job = store.get_job(job_id)
        assert job is not None and (job.state, job.attempt) == (JobState.FAILED, 1)
        assert [(r.id, r.state) for r in out_of_attempts] == [(job_id, JobState.FAILED)]
        assert store.claim_jobs(ClaimRequest("new", ["default"], 10, 30.0)) == []
    finally:
        store.close()


def test_a_worker_whose_late_result_is_fenced_logs_lease_lost(
    deck: JobDeck, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.WARNING, logger="jobdeck.worker")
    log, marker = tmp_path / "events.log", tmp_path / "first-run"
    handle = deck.get_task("logged").enqueue(token=7, log=str(log), seconds=1.0, marker=str(marker))
    # Another host whose sweep comes when this worker's lease is out (as after a long pause).
    later = open_store(db_url, ManualClock(datetime.now(UTC) + timedelta(hours=1)))
    try:
        with running_worker(deck):
            wait_until(lambda: starts(log), 10, "the job to start")
            assert [r.id for r in later.rescue_expired()] == [handle.id]
            handle.wait(10)  # the second attempt, here or elsewhere
            wait_until(
                lambda: any("lease lost" in r.getMessage() for r in caplog.records),
                10,
                "the fenced result to be reported",
            )
    finally:
        later.close()
    [line] = [r.getMessage() for r in caplog.records if "lease lost" in r.getMessage()]
    assert f"job {handle.id} (logged) attempt 1" in line and "result was not recorded" in line
    assert handle.state == JobState.SUCCEEDED and sorted(starts(log).values()) == [2]


# -- a lost database -----------------------------------------------------------------------------

TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_worker_whose_connections_are_killed_keeps_going(
    deck: JobDeck, db_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    total = 300  # 300 x 0.15 s at concurrency 10: at least 4.5 s of work
    logged = deck.get_task("logged").options(max_attempts=10)
    logged.enqueue_many([{"token": i, "log": str(log), "seconds": 0.15} for i in range(total)])
    rounds: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            while not stop.is_set():
                rounds.append(len(conn.execute(TERMINATE).fetchall()))
                stop.wait(0.2)

    def ended() -> int:
        return sum(1 for event in read_events(log) if event.kind == "end")

    settings = {"concurrency": 10, "heartbeat_interval": 0.5, "lease_duration": 5.0}
    thread = threading.Thread(target=killer, name="killer")
    with running_worker(deck, **settings) as worker:
        wait_until(lambda: ended() > 0, 10, "the first job to finish")
        ended_before = ended()
        thread.start()
        try:
            # Kill every connection of the database five times a second for three seconds.
            wait_until(lambda: len(rounds) >= 15, 30, "fifteen rounds of killing")
        finally:
            stop.set()
            thread.join(10)
        ended_during = ended() - ended_before
        wait_until(
            store_reads(lambda: count_in(deck.store, JobState.SUCCEEDED) == total),
            90,
            "every job to succeed after the connections came back",
        )
        assert worker.in_flight == 0

    assert sum(rounds) >= 15, rounds  # the worker's connections were really killed
    # Under load all along: jobs kept finishing while connections died, and some were left.
    assert 0 < ended_during < total - ended_before, (ended_before, ended_during)
    assert sorted(starts(log)) == list(range(total))


# -- a bug elsewhere must not stall the results --------------------------------------------------


def test_an_alert_that_cannot_be_recorded_does_not_stop_results_being_written(
    deck: JobDeck, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The job-out-of-retries alert is recorded from the completer thread, after the result write.
    # A failure there (here: a programming error; for real: a store without the alerts table,
    # as the PostgreSQL store was for a while) must cost that alert, not every later result.
    def broken_record_alert(*args: object, **kwargs: object) -> int:
        raise RuntimeError("cannot record alerts")

    died: list[str] = []
    monkeypatch.setattr(deck.store, "record_alert", broken_record_alert)
    monkeypatch.setattr(threading, "excepthook", lambda hook: died.append(str(hook.thread)))
    exhausted = deck.get_task("boom").options(max_attempts=1).enqueue()
    with running_worker(deck):
        exhausted.wait(10)
        after = deck.get_task("echo").enqueue(value="next")
        with contextlib.suppress(TimeoutError):
            after.wait(5)
    assert died == [], "a worker thread died"
    assert exhausted.state == "failed"
    assert after.refresh().state == "succeeded"


# -- a task that knows retrying cannot help ------------------------------------------------------


def test_permanent_failure_ends_the_job_at_once_without_an_alert(deck: JobDeck) -> None:
    from jobdeck import PermanentFailure

    @deck.task(name="hopeless", max_attempts=5)
    def hopeless() -> None:
        raise PermanentFailure("the uploaded file is corrupt")

    job = hopeless.enqueue()
    with running_worker(deck, concurrency=1):
        job.wait(10)
    assert job.state == JobState.FAILED and job.row.attempt == 1
    assert job.error == "PermanentFailure: the uploaded file is corrupt"
    assert deck.store.list_alerts() == []
