"""Job dependencies and bulk cancel with real worker processes, on both stores: chains run in
order across two workers, a failed parent cancels the rest of its chain, and a bulk cancel
stops the running jobs it marks."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.auditlog import Actor
from jobdeck.control import JobQuery, bulk_act
from jobdeck.states import AttemptStatus, JobState
from tests.worker.helpers import Processes, executions, read_events, wait_until

pytestmark = pytest.mark.slow

PROC = {
    "heartbeat_interval": 0.3,
    "lease_duration": 1.5,
    "rescue_interval": 0.3,
    "poll_interval": 0.1,
    "shutdown_grace": 5.0,
}
CHAINS, LINKS = 4, 3


def state_of(deck: JobDeck, job_id: int) -> JobState:
    job = deck.store.get_job(job_id)
    assert job is not None
    return job.state


def test_chains_run_in_order_across_two_worker_processes(
    deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    logged = deck.get_task("logged")
    chains = []
    for chain in range(CHAINS):
        handles = [logged.enqueue(token=chain * 10, log=str(log), seconds=0.2)]
        for link in range(1, LINKS):
            token = chain * 10 + link
            handles.append(
                logged.enqueue(token=token, log=str(log), seconds=0.2, after=[handles[-1]])
            )
        chains.append(handles)
    assert state_of(deck, chains[0][1].id) == JobState.WAITING
    procs.start(PROC, concurrency=2)
    procs.start(PROC, concurrency=2)
    every = [handle.id for handles in chains for handle in handles]
    wait_until(
        lambda: all(state_of(deck, i) == JobState.SUCCEEDED for i in every), 60, procs.tails()
    )
    runs = executions(log)
    for chain in range(CHAINS):
        for link in range(1, LINKS):
            [(_, _, parent_end)] = runs[chain * 10 + link - 1]
            [(_, child_start, _)] = runs[chain * 10 + link]
            assert parent_end is not None and child_start >= parent_end, procs.tails()
    assert len({event.pid for event in read_events(log)}) == 2, "both workers ran links"


def test_a_failed_parent_cancels_the_rest_of_its_chain(deck: JobDeck, procs: Processes) -> None:
    parent = deck.get_task("boom").options(max_attempts=1).enqueue(message="no input")
    child = deck.get_task("echo").enqueue(value=1, after=[parent])
    grandchild = deck.get_task("echo").enqueue(value=2, after=[child.id])
    procs.start(PROC, concurrency=2)
    procs.start(PROC, concurrency=2)
    wait_until(lambda: state_of(deck, grandchild.id) == JobState.CANCELLED, 30, procs.tails())
    assert state_of(deck, parent.id) == JobState.FAILED
    assert child.refresh().error == f"parent job #{parent.id} failed"
    assert grandchild.refresh().error == f"parent job #{child.id} was cancelled"
    assert deck.store.get_attempts(child.id) == [], "never started"


def test_a_bulk_cancel_stops_the_running_jobs_it_marks(deck: JobDeck, procs: Processes) -> None:
    ids = [deck.get_task("cooperative").enqueue().id for _ in range(3)]
    procs.start(PROC, concurrency=2)
    procs.start(PROC, concurrency=2)
    wait_until(lambda: all(state_of(deck, i) == JobState.RUNNING for i in ids), 20, procs.tails())
    operator = Actor("ann@example.com", role="admin", via="web")
    changed = bulk_act(deck.store, deck.clock, "cancel", JobQuery(status="running"), operator)
    assert changed == 3
    for job_id in ids:
        wait_until(lambda i=job_id: state_of(deck, i) == JobState.CANCELLED, 10, procs.tails())
        [attempt] = deck.store.get_attempts(job_id)
        assert attempt.status == AttemptStatus.CANCELLED
        assert "ann@example.com" in (attempt.error or "")
