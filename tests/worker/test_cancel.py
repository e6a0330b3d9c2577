"""Cancelling running jobs with a real worker: async, thread (cooperative or not) and process
tasks, across two worker processes, and a job whose worker was killed."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.auditlog import Actor
from jobdeck.control import cancel_job
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import AuditFilter
from tests.worker import apps
from tests.worker.helpers import Processes, running_worker, starts, wait_until

OPERATOR = Actor("ann@example.com", role="admin", via="web")


def cancel(deck: JobDeck, job_id: int, reason: str | None = None) -> None:
    cancel_job(deck.store, deck.clock, job_id, OPERATOR, reason=reason)


def state_of(deck: JobDeck, job_id: int) -> JobState:
    job = deck.store.get_job(job_id)
    assert job is not None
    return job.state


def wait_state(deck: JobDeck, job_id: int, state: JobState, timeout: float = 10.0) -> None:
    wait_until(lambda: state_of(deck, job_id) == state, timeout, f"job {job_id} to be {state}")


def assert_cancelled_once(deck: JobDeck, job_id: int) -> None:
    assert state_of(deck, job_id) == JobState.CANCELLED
    [attempt] = deck.store.get_attempts(job_id)
    assert attempt.status == AttemptStatus.CANCELLED
    assert "cancelled by ann@example.com" in (attempt.error or "")


def test_async_thread_and_process_tasks_stop_when_cancelled(deck: JobDeck, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    hanging = deck.get_task("hang_async").enqueue(tag="a").id
    stepping = deck.get_task("cooperative").enqueue().id
    child = deck.get_task("hang_process").enqueue(pid_file=str(pid_file)).id
    with running_worker(deck) as worker:
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), 15, "the child to start")
        wait_until(lambda: worker.in_flight == 3, 5, "three jobs running")
        for job_id in (hanging, stepping, child):
            cancel(deck, job_id, reason="wrong input")
        for job_id in (hanging, stepping, child):
            wait_state(deck, job_id, JobState.CANCELLED)
            assert_cancelled_once(deck, job_id)
        assert apps.CANCELLED == ["a"]  # the coroutine saw its CancelledError
        pid = int(pid_file.read_text())
        wait_until(lambda: not _alive(pid), 5, "the child process to end")
        assert worker.executors.stuck == 0 and worker.in_flight == 0
    audit = deck.store.list_audit(AuditFilter(action_type="cancel"), 10)
    assert len(audit) == 3
    assert {a.details["reason"] for a in audit} == {"wrong input"}


def test_a_thread_task_that_ignores_the_cancel_is_left_behind_and_its_slot_replaced(
    deck: JobDeck,
) -> None:
    ignoring = deck.get_task("stuck").enqueue().id
    with running_worker(deck, concurrency=1, cancel_grace=0.3) as worker:
        wait_state(deck, ignoring, JobState.RUNNING)
        cancel(deck, ignoring)
        wait_state(deck, ignoring, JobState.CANCELLED, timeout=5)
        assert_cancelled_once(deck, ignoring)
        assert worker.executors.stuck == 1  # its thread still blocks, out of the slots
        after = deck.get_task("echo").enqueue(value=1).id
        wait_state(deck, after, JobState.SUCCEEDED)


def test_a_running_job_is_cancelled_once_and_a_retry_runs_it_again(deck: JobDeck) -> None:
    job_id = deck.get_task("cooperative").enqueue(steps=50).id
    with running_worker(deck):
        wait_state(deck, job_id, JobState.RUNNING)
        cancel(deck, job_id)
        with pytest.raises(Exception, match="being cancelled already"):
            cancel(deck, job_id)
        wait_state(deck, job_id, JobState.CANCELLED)
        deck.store.retry_job(job_id, deck.clock.now())
        wait_state(deck, job_id, JobState.SUCCEEDED)
    assert [a.status for a in deck.store.get_attempts(job_id)] == ["cancelled", "succeeded"]


# Worker processes: seconds, as in test_processes.py.
PROC = {
    "heartbeat_interval": 0.3,
    "lease_duration": 1.5,
    "rescue_interval": 0.3,
    "poll_interval": 0.1,
    "shutdown_grace": 5.0,
}


@pytest.mark.slow
def test_cancel_reaches_jobs_running_in_two_other_worker_processes(
    deck: JobDeck, procs: Processes
) -> None:
    first, second = procs.start(PROC, concurrency=1), procs.start(PROC, concurrency=1)
    ids = [deck.get_task("cooperative").enqueue().id for _ in range(2)]
    wait_until(lambda: all(state_of(deck, i) == JobState.RUNNING for i in ids), 20, procs.tails())
    holders = {deck.store.get_job(i).worker_id for i in ids}  # type: ignore[union-attr]
    assert len(holders) == 2, "each worker holds one"
    for job_id in ids:
        cancel(deck, job_id)
    for job_id in ids:
        wait_state(deck, job_id, JobState.CANCELLED, timeout=10)
        assert_cancelled_once(deck, job_id)
    assert first.alive() and second.alive()


@pytest.mark.slow
def test_a_cancelled_job_whose_worker_was_killed_ends_cancelled_and_never_reruns(
    deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    doomed = procs.start(PROC, concurrency=1)
    job_id = deck.get_task("cooperative").enqueue(log=str(log), token=1).id
    wait_until(lambda: starts(log)[1] == 1, 20, procs.tails())
    doomed.signal(signal.SIGKILL)
    doomed.wait(10)
    cancel(deck, job_id, reason="its worker is gone")
    assert state_of(deck, job_id) == JobState.RUNNING  # nobody left to stop it yet
    with running_worker(deck, **PROC):  # its rescuer finds the lease out
        wait_state(deck, job_id, JobState.CANCELLED, timeout=10)
    [attempt] = deck.store.get_attempts(job_id)
    assert attempt.status == AttemptStatus.CANCELLED and "was lost" in (attempt.error or "")
    assert starts(log)[1] == 1  # never run again


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child waits for its parent's join: it has stopped running.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_a_worker_stopping_ends_a_cancelled_job_still_stopping_instead_of_handing_it_back(
    deck: JobDeck,
) -> None:
    ignoring = deck.get_task("stuck").enqueue().id
    with running_worker(deck, cancel_grace=30.0, shutdown_grace=0.2) as worker:
        wait_state(deck, ignoring, JobState.RUNNING)
        cancel(deck, ignoring)
        wait_until(lambda: worker.executors.stuck == 0 and _cancel_taken(worker), 5, "the cancel")
    assert_cancelled_once(deck, ignoring)


def _cancel_taken(worker) -> bool:  # type: ignore[no-untyped-def]
    with worker.executors._lock:
        return any(r.cancelled_by for r in worker.executors._in_flight.values())
