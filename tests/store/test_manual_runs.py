"""Run Now's store verb on both stores: one manual run at a time, a cooldown after it finished
that only a confirmation passes, and no second run however many requests race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from jobdeck.clock import ManualClock
from jobdeck.states import JobState, Trigger
from jobdeck.store import open_store
from jobdeck.store.base import JobFilter, ManualRunRequest, NewJob, Store
from tests.store.test_store import claim, success

T0 = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
KEY = "jobdeck:run-now:ping"


def manual(
    cooldown: float = 10.0, confirm: bool = False, schedule: str = "ping"
) -> ManualRunRequest:
    job = NewJob(
        "ping",
        schedule=schedule,
        trigger=Trigger.MANUAL,
        triggered_by="alice",
        unique_key=f"jobdeck:run-now:{schedule}",
    )
    return ManualRunRequest(job, cooldown, confirm)


def at(store: Store, moment: datetime) -> ManualClock:
    clock = ManualClock(moment)
    store.clock = clock  # type: ignore[attr-defined]
    return clock


def finish(store: Store, when: datetime) -> int:
    [job] = claim(store)
    store.complete_jobs("w1", [success(job, finished=when)], shard=1)
    return int(job.id)


def test_an_active_manual_run_answers_every_run_now_confirmed_or_not(store: Store) -> None:
    at(store, T0)
    first = store.enqueue_manual_run(manual())
    assert first.created and first.state == JobState.AVAILABLE and first.refused is None
    again = store.enqueue_manual_run(manual())
    assert (again.job_id, again.created, again.refused) == (first.job_id, False, "active")
    claim(store)
    confirmed = store.enqueue_manual_run(manual(confirm=True))
    assert (confirmed.job_id, confirmed.created) == (first.job_id, False)
    assert (confirmed.state, confirmed.refused) == (JobState.RUNNING, "active")
    assert store.count_jobs(JobFilter()) == 1


def test_the_cooldown_answers_with_the_finished_run_until_confirmed(store: Store) -> None:
    clock = at(store, T0)
    first = store.enqueue_manual_run(manual())
    finish(store, T0 + timedelta(seconds=2))

    clock.set(T0 + timedelta(seconds=5))
    cooling = store.enqueue_manual_run(manual())
    assert (cooling.job_id, cooling.created, cooling.refused) == (first.job_id, False, "cooldown")
    assert cooling.state == JobState.SUCCEEDED
    assert cooling.finished_at == T0 + timedelta(seconds=2)
    assert cooling.cooldown_left_seconds == 7.0

    second = store.enqueue_manual_run(manual(confirm=True))
    assert second.created and second.job_id != first.job_id
    finish(store, T0 + timedelta(seconds=6))
    clock.set(T0 + timedelta(seconds=15, microseconds=999_999))
    assert store.enqueue_manual_run(manual()).refused == "cooldown"
    clock.set(T0 + timedelta(seconds=16))  # ten seconds after the second run finished
    third = store.enqueue_manual_run(manual())
    assert third.created and third.job_id not in (first.job_id, second.job_id)


def test_a_cancelled_run_or_no_cooldown_lets_the_next_run_now_through(store: Store) -> None:
    at(store, T0)
    cancelled = store.enqueue_manual_run(manual())
    store.cancel_job(cancelled.job_id, T0)
    after_cancel = store.enqueue_manual_run(manual())
    assert after_cancel.created  # a cancelled run never ran: nothing to cool down from

    finish(store, T0)
    assert store.enqueue_manual_run(manual(cooldown=0.0)).created
    # Another schedule's runs are none of this one's business.
    assert store.enqueue_manual_run(manual(schedule="other")).created


def test_a_job_holding_the_run_now_key_is_the_active_run(store: Store) -> None:
    at(store, T0)
    [holder] = store.insert_jobs([NewJob("ping", unique_key=KEY, trigger=Trigger.CODE)])
    answer = store.enqueue_manual_run(manual())
    assert (answer.job_id, answer.created, answer.refused) == (holder.job_id, False, "active")
    assert answer.state == JobState.AVAILABLE


def test_racing_run_nows_make_one_run_per_cooldown(store: Store, db_url: str) -> None:
    """Twenty threads, each on its own store (on PostgreSQL its own connections), press Run
    Now ten times while a worker finishes every run as soon as it can: one run, not one per
    moment the button found nothing active."""
    stop = threading.Event()
    answers = []
    lock = threading.Lock()
    barrier = threading.Barrier(21)

    def press() -> None:
        other = open_store(db_url)
        barrier.wait()
        for _ in range(10):
            answer = other.enqueue_manual_run(manual(cooldown=60.0))
            with lock:
                answers.append(answer)
        other.close()

    def work() -> None:
        worker = open_store(db_url)
        barrier.wait()
        while not stop.is_set():
            for job in claim(worker):
                worker.complete_jobs("w1", [success(job)], shard=1)
        worker.close()

    pressers = [threading.Thread(target=press) for _ in range(20)]
    finisher = threading.Thread(target=work)
    for thread in [*pressers, finisher]:
        thread.start()
    for thread in pressers:
        thread.join()
    stop.set()
    finisher.join()
    assert len(answers) == 200
    assert sum(a.created for a in answers) == 1
    assert len({a.job_id for a in answers}) == 1
    assert store.count_jobs(JobFilter()) == 1
    assert {a.refused for a in answers} <= {None, "active", "cooldown"}
