"""Job dependencies on both stores: a job enqueued after others waits for them, runs once all
succeeded, and is cancelled with the reason when one fails, is cancelled or deleted."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobdeck.errors import StoreUnavailable, UnknownParentJob
from jobdeck.states import JobState
from jobdeck.store import dependencies, open_store
from jobdeck.store.base import BulkRequest, JobFilter, NewJob, Store
from tests.store.test_store import claim, failure, set_time, success


def enqueue(store: Store, task: str = "t", after: tuple[int, ...] = (), **more: Any) -> int:
    [result] = store.insert_jobs([NewJob(task, after=after, **more)])
    return result.job_id


def run(store: Store, job_id: int, *, fail: bool = False, worker: str = "w1") -> None:
    """Claim the due jobs and finish ``job_id`` (succeeded, or failed for good); the others
    claimed go back."""
    claimed = {job.id: job for job in claim(store, worker=worker, limit=50)}
    job = claimed.pop(job_id)
    outcome = failure(job, JobState.FAILED) if fail else success(job)
    assert store.complete_jobs(worker, [outcome], shard=1) == [job_id]
    store.hand_back_jobs(worker, [(j.id, j.attempt) for j in claimed.values()])


def state(store: Store, job_id: int) -> JobState:
    row = store.get_job(job_id)
    assert row is not None
    return row.state


def test_a_child_waits_for_all_its_parents_then_becomes_due(store: Store) -> None:
    one, two = enqueue(store, "one"), enqueue(store, "two")
    child = enqueue(store, "child", after=(one, two))
    assert state(store, child) == JobState.WAITING
    assert [j.id for j in claim(store)] == [one, two], "a waiting job is never claimed"
    store.hand_back_jobs("w1", [(one, 1), (two, 1)])
    run(store, one)
    assert state(store, child) == JobState.WAITING, "one parent of two is not enough"
    run(store, two)
    row = store.get_job(child)
    assert row is not None and row.state == JobState.AVAILABLE
    assert row.run_at >= row.enqueued_at
    assert [j.id for j in claim(store)] == [child]


def test_a_released_child_keeps_a_later_run_at(store: Store) -> None:
    parent = enqueue(store)
    later = datetime.now(UTC) + timedelta(hours=1)
    child = enqueue(store, after=(parent,), run_at=later)
    run(store, parent)
    row = store.get_job(child)
    assert row is not None and row.state == JobState.SCHEDULED and row.run_at == later


def test_a_failed_parent_cancels_children_and_grandchildren_with_the_reason(store: Store) -> None:
    parent, other = enqueue(store), enqueue(store)
    child = enqueue(store, after=(parent, other), unique_key="child")
    grandchild = enqueue(store, after=(child,))
    run(store, parent, fail=True)
    for job_id, reason in (
        (child, f"parent job #{parent} failed"),
        (grandchild, f"parent job #{child} was cancelled"),
    ):
        row = store.get_job(job_id)
        assert row is not None and row.state == JobState.CANCELLED
        assert row.error == reason and row.finished_at is not None
    # A cancelled child holds no unique key, and retrying it by hand runs it.
    assert store.insert_jobs([NewJob("t", unique_key="child")])[0].created
    retried = store.retry_job(child, datetime.now(UTC))
    assert retried is not None and retried.state == JobState.AVAILABLE
    assert state(store, grandchild) == JobState.CANCELLED, "its children stay cancelled"


def test_cancelling_a_pending_parent_cancels_its_waiting_children(store: Store) -> None:
    parent = enqueue(store)
    child = enqueue(store, after=(parent,))
    assert store.cancel_job(parent, datetime.now(UTC), "web:ann") is not None
    row = store.get_job(child)
    assert row is not None and row.state == JobState.CANCELLED
    assert row.error == f"parent job #{parent} was cancelled"


def test_a_parent_finished_before_the_enqueue_decides_at_once(store: Store) -> None:
    done, failed = enqueue(store), enqueue(store)
    run(store, done)
    run(store, failed, fail=True)
    runs_now = enqueue(store, after=(done,))
    never = enqueue(store, after=(done, failed))
    assert state(store, runs_now) == JobState.AVAILABLE
    row = store.get_job(never)
    assert row is not None and row.state == JobState.CANCELLED
    assert row.error == f"parent job #{failed} failed"
    assert [link.job_id for link in store.get_job_links(never)] == [done, failed]


def test_an_unknown_parent_refuses_the_whole_batch(store: Store) -> None:
    parent = enqueue(store)
    with pytest.raises(UnknownParentJob, match=r"#999999"):
        store.insert_jobs([NewJob("ok"), NewJob("bad", after=(parent, 999999))])
    assert store.count_jobs(JobFilter()) == 1
    row = store.get_job(parent)
    assert row is not None and not row.has_children, "the marking was rolled back too"


def test_links_name_parents_and_children_with_their_states(store: Store) -> None:
    parent = enqueue(store, "p")
    child = enqueue(store, "c", after=(parent,))
    [up] = store.get_job_links(child)
    [down] = store.get_job_links(parent)
    assert (up.relation, up.job_id, up.task, up.state) == ("parent", parent, "p", "available")
    assert (down.relation, down.job_id, down.task, down.state) == ("child", child, "c", "waiting")


def test_a_lost_parent_out_of_attempts_cancels_its_children(store: Store) -> None:
    parent = enqueue(store, max_attempts=1)
    child = enqueue(store, after=(parent,))
    claim(store, worker="gone")
    set_time(store, datetime.now(UTC) + timedelta(seconds=31))
    assert [(r.id, r.state) for r in store.rescue_expired()] == [(parent, JobState.FAILED)]
    row = store.get_job(child)
    assert row is not None and row.state == JobState.CANCELLED
    assert row.error == f"parent job #{parent} failed"


def test_a_lost_parent_that_retries_keeps_its_children_waiting(store: Store) -> None:
    parent = enqueue(store, max_attempts=3)
    child = enqueue(store, after=(parent,))
    claim(store, worker="gone")
    set_time(store, datetime.now(UTC) + timedelta(seconds=31))
    assert [r.state for r in store.rescue_expired()] == [JobState.RETRYABLE]
    assert state(store, child) == JobState.WAITING


def test_deleting_a_pending_parent_cancels_its_children(store: Store) -> None:
    parent, kept = enqueue(store, "p"), enqueue(store, "k")
    child = enqueue(store, "c", after=(parent, kept))
    batch = store.act_on_jobs(
        BulkRequest("delete", JobFilter(ids=(parent,)), 100, datetime.now(UTC))
    )
    assert batch.changed == 1 and store.get_job(parent) is None
    row = store.get_job(child)
    assert row is not None and row.state == JobState.CANCELLED
    assert row.error == f"parent job #{parent} was deleted"
    assert [link.job_id for link in store.get_job_links(child)] == [kept]
    assert store.get_job_links(kept)[0].job_id == child


def test_pruning_a_finished_parent_takes_its_links(store: Store) -> None:
    parent = enqueue(store)
    child = enqueue(store, after=(parent,))
    run(store, parent)
    run(store, child)
    assert store.prune_finished(datetime.now(UTC) + timedelta(seconds=1), 10) == 2
    assert store.get_job_links(parent) == [] and store.get_job_links(child) == []


def test_finishing_jobs_without_children_settles_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settled: list[list[tuple[int, str]]] = []
    real = dependencies.Linker.settle

    def recorded(self: dependencies.Linker, ended: Any) -> bool:
        ended = list(ended)
        settled.append(ended)
        return real(self, ended)

    monkeypatch.setattr(dependencies.Linker, "settle", recorded)
    plain = enqueue(store)
    run(store, plain)
    row = store.get_job(plain)
    assert row is not None and not row.has_children and settled == []
    parent = enqueue(store)
    enqueue(store, after=(parent,))
    run(store, parent)
    assert settled == [[(parent, "succeeded")]]


def test_bulk_cancel_marks_running_jobs_and_cancels_pending_ones(store: Store) -> None:
    running, pending = enqueue(store), enqueue(store)
    child = enqueue(store, after=(pending,))
    [claimed] = claim(store, limit=1)
    assert claimed.id == running
    request = BulkRequest("cancel", JobFilter(), 100, datetime.now(UTC), actor="web:ann")
    batch = store.act_on_jobs(request)
    assert (batch.changed, batch.running) == (3, 1)
    row = store.get_job(running)
    assert row is not None and row.state == JobState.RUNNING and row.cancelled_by == "web:ann"
    assert store.worker_orders("w1").cancelled_jobs == {(running, 1): "web:ann"}
    assert state(store, pending) == JobState.CANCELLED
    assert state(store, child) == JobState.CANCELLED
    again = store.act_on_jobs(request)
    assert again.changed == 0 and again.last_id is None, "a marked job is not marked twice"


def test_a_settling_that_fails_takes_the_parents_completion_back_with_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = enqueue(store)
    child = enqueue(store, after=(parent,))
    [job] = claim(store)

    def broken(self: dependencies.Linker, parent_ids: Any) -> bool:
        raise StoreUnavailable("the disk filled up while releasing children")

    with monkeypatch.context() as patched:
        patched.setattr(dependencies.Linker, "release_children", broken)
        with pytest.raises(StoreUnavailable):
            store.complete_jobs("w1", [success(job)], shard=1)
    assert state(store, parent) == JobState.RUNNING, "nothing of the completion was kept"
    assert store.get_attempts(parent)[0].status == "running"
    assert store.complete_jobs("w1", [success(job)], shard=1) == [parent]
    assert (state(store, parent), state(store, child)) == (JobState.SUCCEEDED, JobState.AVAILABLE)


ROUNDS = 15  # races per test; children go to another queue, so claims take parents only


def test_two_parents_finishing_at_once_release_their_child(db_url: str) -> None:
    """Two workers (two stores, as two processes) finish the two parents of one child in the
    same instant: whichever settles second sees the other's success."""
    first, second = open_store(db_url), open_store(db_url)
    try:
        children = []
        for _ in range(ROUNDS):
            one, two = enqueue(first), enqueue(first)
            children.append(enqueue(first, after=(one, two), queue="later"))
            [a] = claim(first, worker="w1", limit=1)
            [b] = claim(second, worker="w2", limit=1)
            together(
                lambda a=a: first.complete_jobs("w1", [success(a)], shard=1),
                lambda b=b: second.complete_jobs("w2", [success(b)], shard=2),
            )
        assert {state(first, child) for child in children} == {JobState.AVAILABLE}
    finally:
        first.close()
        second.close()


def test_an_enqueue_racing_its_parents_completion_is_never_left_waiting(db_url: str) -> None:
    producer, worker = open_store(db_url), open_store(db_url)
    try:
        children: list[int] = []
        for _ in range(ROUNDS):
            parent = enqueue(producer)
            [job] = claim(worker, limit=1)
            together(
                lambda p=parent: children.append(enqueue(producer, after=(p,), queue="later")),
                lambda j=job: worker.complete_jobs("w1", [success(j)], shard=1),
            )
        assert {state(producer, child) for child in children} == {JobState.AVAILABLE}
    finally:
        producer.close()
        worker.close()


def together(*calls: Any) -> None:
    """Run ``calls`` on threads released at the same instant; re-raise the first error."""
    gate = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Any) -> None:
        gate.wait()
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if errors:
        raise errors[0]
