"""SIGTERM/SIGINT drain a real worker process: no new claims, in-flight jobs finish within the
grace period, the rest go back to the queue without using up an attempt, and exit code 0."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.states import JobState
from tests.worker.helpers import (
    Processes,
    WorkerProcess,
    jobs_in,
    read_events,
    running_worker,
    starts,
    wait_until,
)

pytestmark = pytest.mark.slow

DRAIN = {
    "heartbeat_interval": 0.3,
    "lease_duration": 2.0,
    "rescue_interval": 0.5,
    "poll_interval": 0.1,
    "shutdown_grace": 10.0,
}


def _signal_and_time_exit(proc: WorkerProcess, signum: int) -> tuple[datetime, int, float]:
    signalled, clock = datetime.now(UTC), time.monotonic()
    proc.signal(signum)
    code = proc.wait(20)
    return signalled, code, time.monotonic() - clock


def test_sigterm_stops_claiming_and_lets_in_flight_jobs_finish(
    deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    grace = DRAIN["shutdown_grace"]
    deck.get_task("logged").enqueue_many(
        [{"token": i, "log": str(log), "seconds": 1.0} for i in range(6)]
    )
    proc = procs.start(DRAIN, concurrency=2)
    wait_until(lambda: sum(starts(log).values()) == 2, 20, "two jobs to start")

    signalled, code, took = _signal_and_time_exit(proc, signal.SIGTERM)
    assert code == 0, proc.tail()
    assert took < grace

    jobs = jobs_in(deck.store)
    claimed = [job for job in jobs if job.attempt > 0]
    # The two in-flight jobs finished within the grace period; nothing was claimed after.
    assert len(claimed) == 2
    for job in claimed:
        assert job.state == JobState.SUCCEEDED
        assert job.started_at is not None and job.started_at < signalled + timedelta(seconds=1)
        assert job.finished_at is not None and job.finished_at < signalled + timedelta(
            seconds=grace
        )
    assert sorted(job.state for job in jobs if job.attempt == 0) == [JobState.AVAILABLE] * 4
    assert sum(starts(log).values()) == 2
    [record] = [w for w in deck.store.list_workers() if w.pid == proc.pid]
    assert record.state == "stopped"


def test_a_job_still_running_when_the_grace_period_ends_goes_back_unused(
    deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log, marker = tmp_path / "events.log", tmp_path / "first-run"
    # The first execution takes 5 s, longer than the 0.5 s grace; a later one returns at once.
    handle = deck.get_task("logged").enqueue(token=1, log=str(log), seconds=5.0, marker=str(marker))
    proc = procs.start({**DRAIN, "shutdown_grace": 0.5}, concurrency=2)
    wait_until(lambda: starts(log)[1] == 1, 20, "the job to start")

    _, code, took = _signal_and_time_exit(proc, signal.SIGTERM)
    assert code == 0, proc.tail()
    assert took < 3.0
    assert [e.kind for e in read_events(log)] == ["start"]  # it did not get to finish

    job = handle.refresh().row
    assert (job.state, job.attempt, job.worker_id) == (JobState.AVAILABLE, 0, None)
    assert deck.store.get_attempts(handle.id) == []
    # Its attempt was not used up: the next worker runs it as attempt 1.
    with running_worker(deck):
        handle.wait(10)
    assert (handle.state, handle.row.attempt) == (JobState.SUCCEEDED, 1)
    assert len(deck.store.get_attempts(handle.id)) == 1


def test_a_second_signal_stops_at_once(deck: JobDeck, procs: Processes, tmp_path: Path) -> None:
    log, marker = tmp_path / "events.log", tmp_path / "first-run"
    handle = deck.get_task("logged").enqueue(token=1, log=str(log), seconds=8.0, marker=str(marker))
    proc = procs.start(DRAIN, concurrency=2)  # a 10 s grace: the job could finish in it
    wait_until(lambda: starts(log)[1] == 1, 20, "the job to start")

    proc.signal(signal.SIGINT)
    wait_until(
        lambda: "draining" in proc.output.read_text(errors="replace"), 10, "the drain to begin"
    )
    _, code, took = _signal_and_time_exit(proc, signal.SIGTERM)
    assert code == 0, proc.tail()
    assert took < 3.0
    job = handle.refresh().row
    assert (job.state, job.attempt) == (JobState.AVAILABLE, 0)
