"""Paused queues and drain requests on both stores: written by operators, read by workers in
one read per heartbeat (worker_orders)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobdeck.states import JobState
from jobdeck.store import open_store
from jobdeck.store.base import ClaimRequest, NewJob, QueuePause, Store, WorkerInfo, WorkerOrders


def test_a_queue_pauses_once_and_resumes(store: Store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    assert store.list_paused_queues() == []
    assert store.pause_queue(QueuePause("mail", now, "alice", "SMTP down"))
    # The first pause stays: who paused it and why is what an operator needs to see.
    assert not store.pause_queue(QueuePause("mail", now + timedelta(minutes=1), "bob", None))
    assert store.pause_queue(QueuePause("reports", now, "bob"))
    (mail, reports) = store.list_paused_queues()
    assert mail == QueuePause("mail", now, "alice", "SMTP down")
    assert reports.queue == "reports" and reports.reason is None
    assert store.resume_queue("mail")
    assert not store.resume_queue("mail")
    assert [p.queue for p in store.list_paused_queues()] == ["reports"]


def test_worker_orders_name_the_paused_queues_and_a_stop_request(store: Store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store.register_worker(WorkerInfo("w1", "host", 1, ["default"], 4, now, now))
    store.register_worker(WorkerInfo("w2", "host", 2, ["default"], 4, now, now))
    assert store.worker_orders("w1") == WorkerOrders()
    store.pause_queue(QueuePause("default", now, "alice"))
    store.pause_queue(QueuePause("mail", now, "alice"))
    assert store.worker_orders("w1") == WorkerOrders(frozenset({"default", "mail"}), False)
    assert store.request_worker_stop("w1", now + timedelta(seconds=3))
    assert store.request_worker_stop("w1", now + timedelta(seconds=9))  # asked again: still on
    assert store.worker_orders("w1").stop_requested
    assert not store.worker_orders("w2").stop_requested
    by_id = {w.id: w for w in store.list_workers()}
    # The first request's time is kept.
    assert by_id["w1"].stop_requested_at == now + timedelta(seconds=3)
    assert by_id["w2"].stop_requested_at is None


def test_a_stop_request_needs_a_worker_that_has_not_stopped(store: Store) -> None:
    now = datetime.now(UTC)
    assert not store.request_worker_stop("nobody", now)
    store.register_worker(WorkerInfo("w1", "host", 1, ["default"], 4, now, now))
    store.deregister_worker("w1", now)
    assert not store.request_worker_stop("w1", now)
    assert store.worker_orders("nobody") == WorkerOrders()


def test_open_jobs_are_counted_by_queue_and_state_in_one_read(store: Store) -> None:
    assert store.count_open_by_queue() == {}
    store.insert_jobs(
        [
            NewJob("a"),
            NewJob("a"),
            NewJob("b", queue="mail"),
            NewJob("c", queue="later", run_at=datetime.now(UTC) + timedelta(hours=1)),
        ]
    )
    (claimed,) = store.claim_jobs(ClaimRequest("w1", ["mail"], 1, 60))
    assert claimed.queue == "mail"
    assert store.count_open_by_queue() == {
        "default": {JobState.AVAILABLE: 2},
        "mail": {JobState.RUNNING: 1},
        "later": {JobState.SCHEDULED: 1},
    }


def test_orders_are_pushed_to_the_worker_they_are_for(store: Store, db_url: str) -> None:
    """PostgreSQL announces each order as it commits; SQLite pushes none (the heartbeat reads
    them), and its wait just waits."""
    if not store.remote:
        store.notify_orders("w1")  # nobody listens: nothing to wake
        assert store.wait_for_orders("w1", 0.05) is False
        return
    now = datetime.now(UTC)
    store.register_worker(WorkerInfo("w1", "host", 1, ["default"], 4, now, now))
    store.register_worker(WorkerInfo("w2", "host", 2, ["default"], 4, now, now))
    store.insert_jobs([NewJob("a")])
    [job] = store.claim_jobs(ClaimRequest("w1", ("default",), 1, 30.0))
    w1, w2 = open_store(db_url), open_store(db_url)  # one store per worker process
    try:
        for listening in (w1, w2):  # the first wait opens the listener
            assert listening.wait_for_orders("w1" if listening is w1 else "w2", 0.01) is False
        assert store.cancel_job(job.id, now, "alice")
        assert w1.wait_for_orders("w1", 5.0) is True
        assert w2.wait_for_orders("w2", 0.3) is False, "a cancel is for the job's worker only"
        store.pause_queue(QueuePause("mail", now, "alice"))
        assert w2.wait_for_orders("w2", 5.0) is True, "a pause is for every worker"
        assert w1.wait_for_orders("w1", 5.0) is True
        assert store.request_worker_stop("w2", now)
        assert w2.wait_for_orders("w2", 5.0) is True
        assert w1.wait_for_orders("w1", 0.3) is False
        assert store.resume_queue("mail")
        assert w1.wait_for_orders("w1", 5.0) is True
        store.notify_orders("w2")  # a stopping worker wakes its own listener, no other
        assert w2.wait_for_orders("w2", 5.0) is True
        assert w1.wait_for_orders("w1", 0.3) is False
    finally:
        w1.close()
        w2.close()
