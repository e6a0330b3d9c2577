"""Operators' orders reach the workers at their heartbeat (at once on PostgreSQL, which pushes
them): a paused queue is not claimed from (and is again once resumed), and a worker asked to
drain and stop finishes its running jobs, however long its grace period, and exits cleanly."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.auditlog import Actor
from jobdeck.control.fleet import pause_queue, resume_queue, stop_worker
from jobdeck.states import JobState
from jobdeck.worker.upkeep import OrdersListener
from tests.worker.helpers import (
    Processes,
    WorkerProcess,
    count_in,
    jobs_in,
    running_worker,
    starts,
    wait_until,
)

OPERATOR = Actor("alice", "operator", via="test")


def state_of(deck: JobDeck, job_id: int) -> JobState | None:
    job = deck.store.get_job(job_id)
    return job.state if job else None


def test_a_paused_queue_is_not_claimed_until_it_is_resumed(deck: JobDeck) -> None:
    echo = deck.get_task("echo")
    pause_queue(deck, "mail", OPERATOR, reason="SMTP is down")
    with running_worker(deck, queues=("default", "mail")) as worker:
        held = echo.options(queue="mail").enqueue(value="held")
        free = echo.enqueue(value="free")
        wait_until(lambda: state_of(deck, free.id) == JobState.SUCCEEDED, 10, "free")
        assert worker.heartbeat.wait_ticks(3, 5)
        assert state_of(deck, held.id) == JobState.AVAILABLE

        resume_queue(deck, "mail", OPERATOR)
        # Within a heartbeat (0.2 s here) and a poll.
        wait_until(lambda: state_of(deck, held.id) == JobState.SUCCEEDED, 5, "held")


def test_a_queue_paused_while_the_worker_runs_stops_being_claimed(deck: JobDeck) -> None:
    echo = deck.get_task("echo")
    with running_worker(deck) as worker:
        first = echo.enqueue(value=1)
        wait_until(lambda: state_of(deck, first.id) == JobState.SUCCEEDED, 10, "first")
        pause_queue(deck, "default", OPERATOR)
        assert worker.heartbeat.wait_ticks(2, 5)
        assert worker.fetcher.queues == ()
        echo.enqueue_many([{"value": n} for n in range(5)])
        assert worker.heartbeat.wait_ticks(3, 5)
        assert count_in(deck.store, JobState.AVAILABLE) == 5
        resume_queue(deck, "default", OPERATOR)
        wait_until(lambda: count_in(deck.store, JobState.SUCCEEDED) == 6, 10, "all six")


def test_a_worker_asked_to_stop_finishes_its_jobs_and_exits(
    deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    # Each job takes 2 s; the grace period is 0.5 s. A SIGTERM would hand the two back; a drain
    # lets them finish.
    deck.get_task("logged").enqueue_many(
        [{"token": i, "log": str(log), "seconds": 2.0} for i in range(6)]
    )
    timings = {
        "heartbeat_interval": 0.3,
        "lease_duration": 2.0,
        "rescue_interval": 0.5,
        "poll_interval": 0.1,
        "shutdown_grace": 0.5,
    }
    proc = procs.start(timings, concurrency=2)
    wait_until(lambda: sum(starts(log).values()) == 2, 20, "two jobs to start")
    (record,) = [w for w in deck.store.list_workers() if w.pid == proc.pid]

    stop_worker(deck, record.id, OPERATOR, reason="host maintenance")
    assert proc.wait(20) == 0, proc.tail()

    jobs = jobs_in(deck.store)
    assert sorted(j.state for j in jobs if j.attempt > 0) == [JobState.SUCCEEDED] * 2
    assert sorted(j.state for j in jobs if j.attempt == 0) == [JobState.AVAILABLE] * 4
    assert sum(starts(log).values()) == 2
    (record,) = [w for w in deck.store.list_workers() if w.pid == proc.pid]
    assert record.state == "stopped" and record.stop_requested_at is not None
    assert "asked to drain and stop" in proc.tail()


def test_every_worker_process_on_every_host_honours_a_pause_within_a_heartbeat(
    deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    timings = {"heartbeat_interval": 0.3, "poll_interval": 0.1, "scheduler_enabled": False}
    hosts = []
    for host in ("host-a", "host-b"):
        proc = WorkerProcess(deck.database_url, tmp_path, timings, 2, host, host=host).start()
        procs.started.append(proc)
        proc.wait_registered(deck.store)
        hosts.append(proc)

    pause_queue(deck, "default", OPERATOR)
    paused_at = deck.store.list_paused_queues()[0].paused_at
    # A heartbeat written after the pause, and the pause followed: the heartbeat is written
    # before the orders are read, so on a loaded machine a beat alone came too early.
    wait_until(lambda: all(beat_after(deck, p, paused_at) for p in hosts), 10, "both to beat")
    wait_until(lambda: all("paused: default" in p.tail(200) for p in hosts), 10, "both to obey")
    jobs = deck.get_task("echo").enqueue_many([{"value": n} for n in range(8)])
    enqueued_at = deck.clock.now()
    wait_until(lambda: all(beat_after(deck, p, enqueued_at, 2) for p in hosts), 10, "two beats")
    assert count_in(deck.store, JobState.AVAILABLE) == len(jobs)

    resume_queue(deck, "default", OPERATOR)
    wait_until(lambda: count_in(deck.store, JobState.SUCCEEDED) == len(jobs), 15, "the jobs")


def beat_after(deck: JobDeck, proc: WorkerProcess, moment: datetime, beats: int = 1) -> bool:
    """The process's worker has heartbeat ``beats`` intervals (0.3 s) after ``moment``."""
    for worker in deck.store.list_workers():
        if proc.holds_id(worker.id):
            return worker.last_heartbeat > moment + timedelta(seconds=0.3 * (beats - 1))
    return False


def test_the_claim_path_does_not_read_the_paused_set(deck: JobDeck) -> None:
    """Between heartbeats a worker claims as before. On SQLite a pause waits for the next beat:
    with beats a minute apart, a job enqueued just after a pause still runs. PostgreSQL pushes
    the pause (NOTIFY on jobdeck_orders): the worker stops claiming from the queue at once."""
    echo = deck.get_task("echo")
    with running_worker(deck, heartbeat_interval=60.0, lease_duration=120.0) as worker:
        wait_until(lambda: worker.heartbeat.ticks >= 1, 5, "the first beat")
        pause_queue(deck, "default", OPERATOR)
        if deck.store.remote:
            wait_until(lambda: worker.fetcher.queues == (), 5, "the pushed pause")
            job = echo.enqueue(value="after the pause")
            time.sleep(0.5)
            assert state_of(deck, job.id) == JobState.AVAILABLE
            assert worker.heartbeat.ticks == 1, "heard without a beat"
            resume_queue(deck, "default", OPERATOR)
            wait_until(lambda: state_of(deck, job.id) == JobState.SUCCEEDED, 10, "the job")
            return
        job = echo.enqueue(value="between beats")
        wait_until(lambda: state_of(deck, job.id) == JobState.SUCCEEDED, 10, "the job")
        assert worker.fetcher.queues == ("default",)


def test_a_stopping_worker_does_not_wait_out_its_orders_listener(
    deck: JobDeck, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the listener blocks in a wait for a NOTIFY; the stop wakes it with one of
    its own, so a worker stops at once rather than after the wait's bound (here 60 s)."""
    if not deck.store.remote:
        pytest.skip("SQLite pushes no orders: no listener runs")
    monkeypatch.setattr(OrdersListener, "WAIT_S", 60.0)
    listener = OrdersListener(deck.store, "w-stop", lambda: None)
    listener.start()
    orders = deck.store._db._listeners["orders"]  # type: ignore[attr-defined]
    wait_until(lambda: orders.conn is not None, 10, "the listener's LISTEN")
    stopping = time.monotonic()
    listener.stop(timeout=20)
    assert time.monotonic() - stopping < 10, "the stop waited the listener's wait out"
