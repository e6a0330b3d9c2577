"""On PostgreSQL a worker can lose the database while the other workers keep it. It then stops
its jobs before their leases run out, so the job another worker takes over never runs twice at
once; and PostgreSQL pushes an operator's cancel to the job's worker at once, not at its next
heartbeat.

The cut is a relay on loopback between the worker and the server, which holds the bytes both
ways (tests/multihost/network.py): the worker's statements wait, as behind a broken link.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.auditlog import Actor
from jobdeck.control import JobQuery, bulk_act, cancel_job
from jobdeck.control.fleet import stop_worker
from jobdeck.states import JobState
from jobdeck.worker.worker import Worker
from tests.multihost.network import Host, Relay
from tests.worker import apps
from tests.worker.helpers import Processes, executions, running_worker, starts, wait_until

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

SETTINGS = {
    "heartbeat_interval": 0.2,
    "lease_duration": 2.0,
    "rescue_interval": 0.3,
    "poll_interval": 0.1,
    "shutdown_grace": 2.0,
    "scheduler_enabled": False,
}
OPERATOR = Actor("ann", "admin", via="test")
LOOPBACK = Host("cut-off", netns="", link_address="127.0.0.1", own_address="127.0.0.1")


@pytest.fixture
def relayed_deck(db_url: str) -> Iterator[tuple[JobDeck, Relay]]:
    """The test tasks on ``db_url``, reached through a relay that can cut this process off."""
    relay = Relay(("127.0.0.1", 5432))
    port = relay.listen(LOOPBACK)
    deck = apps.make_deck(db_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}"), **SETTINGS)
    try:
        yield deck, relay
    finally:
        relay.heal(LOOPBACK)
        deck.close()
        relay.close()


def state_of(deck: JobDeck, job_id: int) -> JobState | None:
    job = deck.store.get_job(job_id)
    return job.state if job else None


@pytest.mark.slow
@pytest.mark.parametrize("task", ["held", "held_in_thread"])
def test_a_worker_cut_off_stops_its_job_before_another_worker_takes_it_over(
    relayed_deck: tuple[JobDeck, Relay], db_url: str, task: str, tmp_path: Path
) -> None:
    deck, relay = relayed_deck
    log = tmp_path / "events.log"
    others = Processes(db_url, tmp_path)  # on a direct connection: they keep the database
    job = deck.get_task(task).enqueue(token=1, log=str(log), seconds=4.0)
    try:
        with running_worker(deck) as worker:
            wait_until(lambda: starts(log)[1] == 1, 10, "the job to start here")
            relay.cut(LOOPBACK)
            others.start(SETTINGS, concurrency=1)
            wait_until(lambda: starts(log)[1] == 2, 20, "the other worker to take the job over")
            stopped_here = worker.in_flight == 0 and worker.executors.stuck == 0
            relay.heal(LOOPBACK)
            wait_until(lambda: state_of(deck, job.id) == JobState.SUCCEEDED, 20, "the job")
    finally:
        others.kill_all()
    first, second = sorted(executions(log)[1], key=lambda run: run[1])
    assert first[2] is not None, "the cut-off worker's execution never ended"
    assert first[2] < second[1], f"ran twice at once: {first} and {second}"
    assert stopped_here, "the cut-off worker still held the job (or its thread) when it was taken"
    [lost, done] = deck.store.get_attempts(job.id)
    assert "was lost" in (lost.error or "") and done.error is None


@pytest.fixture
def beatless(db_url: str) -> Iterator[tuple[JobDeck, Worker]]:
    """A worker whose heartbeats are a minute apart, after its first: within a test's waits
    only a pushed order can reach it."""
    deck = apps.make_deck(db_url, **SETTINGS)
    try:
        with running_worker(deck, heartbeat_interval=60.0, lease_duration=120.0) as worker:
            wait_until(lambda: worker.heartbeat.ticks >= 1, 5, "the first beat")
            yield deck, worker
            assert worker.heartbeat.ticks == 1, "heard without a beat"
    finally:
        deck.close()


def test_postgres_pushes_a_cancel_to_the_worker_at_once(beatless: tuple[JobDeck, Worker]) -> None:
    deck, worker = beatless
    job = deck.get_task("hang_async").enqueue(tag="pushed")
    wait_until(lambda: worker.in_flight == 1, 10, "the job to start")
    cancel_job(deck.store, deck.clock, job.id, OPERATOR)
    wait_until(lambda: state_of(deck, job.id) == JobState.CANCELLED, 10, "the cancel")
    wait_until(lambda: apps.CANCELLED == ["pushed"], 5, "the coroutine to see its cancel")


def test_a_bulk_cancel_is_pushed_to_the_workers_at_once(beatless: tuple[JobDeck, Worker]) -> None:
    deck, worker = beatless
    ids = [deck.get_task("hang_async").enqueue(tag=f"bulk{n}").id for n in range(3)]
    wait_until(lambda: worker.in_flight == 3, 10, "the jobs to start")
    assert bulk_act(deck.store, deck.clock, "cancel", JobQuery(status="running"), OPERATOR) == 3
    for job_id in ids:
        wait_until(lambda i=job_id: state_of(deck, i) == JobState.CANCELLED, 10, "the cancel")


def test_a_drain_request_is_pushed_to_the_worker_at_once(beatless: tuple[JobDeck, Worker]) -> None:
    deck, worker = beatless
    stop_worker(deck, worker.id, OPERATOR)
    wait_until(worker.fetcher.stopping.is_set, 10, "the drain to be heard")
