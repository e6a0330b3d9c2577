"""The store conformance suite: every verb, against SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from jobdeck.clock import ManualClock
from jobdeck.errors import SchemaError
from jobdeck.states import AttemptStatus, JobState, Trigger
from jobdeck.store import open_store
from jobdeck.store.base import ClaimRequest, JobFilter, NewJob, Outcome, Store, WorkerInfo

NOW = datetime.now(UTC).replace(microsecond=0)


def claim(
    store: Store, worker: str = "w1", limit: int = 10, queues: tuple[str, ...] = ("default",)
) -> list:
    return store.claim_jobs(ClaimRequest(worker, queues, limit, 30.0))


def set_time(store: Store, moment: datetime) -> ManualClock:
    """From now on the store reads a manual clock at ``moment`` instead of the database's."""
    clock = ManualClock(moment)
    store.clock = clock  # type: ignore[attr-defined]
    return clock


def success(job, finished: datetime | None = None, result: str = '{"ok":true}') -> Outcome:
    end = finished or datetime.now(UTC)
    return Outcome(
        job.id,
        job.attempt,
        job.task,
        AttemptStatus.SUCCEEDED,
        JobState.SUCCEEDED,
        job.started_at,
        end,
        result_json=result,
        summary="done",
    )


def failure(
    job, next_state: JobState = JobState.RETRYABLE, run_at: datetime | None = None
) -> Outcome:
    end = datetime.now(UTC)
    return Outcome(
        job.id,
        job.attempt,
        job.task,
        AttemptStatus.FAILED,
        next_state,
        job.started_at,
        end,
        run_at=run_at or end,
        error="ValueError: boom",
        traceback="Traceback ...",
    )


def test_migrate_is_idempotent_and_schema_is_current(store: Store) -> None:
    assert store.migrate() == []
    store.check_schema()
    status = store.schema_status()
    assert status.current == status.latest and status.pending == []


def test_unmigrated_database_is_refused_with_a_hint(tmp_path) -> None:
    fresh = open_store(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(SchemaError, match="jobdeck db migrate"):
        fresh.check_schema()
    fresh.close()


def test_insert_then_claim_by_priority_then_run_at(store: Store) -> None:
    early = datetime.now(UTC) - timedelta(minutes=5)
    low = store.insert_jobs([NewJob("low", run_at=early)])[0].job_id
    high = store.insert_jobs([NewJob("high", priority=5)])[0].job_id
    older = store.insert_jobs([NewJob("older", run_at=early - timedelta(minutes=1))])[0].job_id
    claimed = claim(store)
    assert [job.id for job in claimed] == [high, older, low]
    assert all(job.attempt == 1 for job in claimed)
    assert store.get_job(high).state == JobState.RUNNING


def test_claim_respects_limit_queue_and_future_run_at(store: Store) -> None:
    store.insert_jobs([NewJob("a") for _ in range(5)])
    store.insert_jobs([NewJob("other", queue="mail")])
    future = store.insert_jobs([NewJob("later", run_at=datetime.now(UTC) + timedelta(hours=1))])
    assert store.get_job(future[0].job_id).state == JobState.SCHEDULED
    assert len(claim(store, limit=3)) == 3
    assert len(claim(store, limit=10)) == 2
    assert [j.task for j in claim(store, queues=("mail",))] == ["other"]
    assert claim(store) == []
    set_time(store, datetime.now(UTC) + timedelta(hours=2))
    assert [j.task for j in claim(store)] == ["later"]


def test_two_claimers_never_get_the_same_job(store: Store, db_url: str) -> None:
    store.insert_jobs([NewJob("a") for _ in range(200)])
    seen: list[int] = []
    lock = threading.Lock()

    def run(worker: str) -> None:
        other = open_store(db_url)
        while batch := claim(other, worker=worker, limit=7):
            with lock:
                seen.extend(job.id for job in batch)
        other.close()

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 200 and len(set(seen)) == 200


def test_unique_key_returns_existing_job_while_active(store: Store) -> None:
    first = store.insert_jobs([NewJob("a", unique_key="welcome:42")])[0]
    again = store.insert_jobs([NewJob("a", unique_key="welcome:42")])[0]
    assert first.created and not again.created and again.job_id == first.job_id
    job = claim(store)[0]
    assert store.insert_jobs([NewJob("a", unique_key="welcome:42")])[0].job_id == first.job_id
    store.complete_jobs("w1", [success(job)], shard=1)
    after = store.insert_jobs([NewJob("a", unique_key="welcome:42")])[0]
    assert after.created and after.job_id != first.job_id


def test_unique_while_pending_lets_one_more_queue_behind_a_running_job(store: Store) -> None:
    key = "reindex:7"
    first = store.insert_jobs([NewJob("idx", unique_key=key, unique_while="pending")])[0]
    assert not store.insert_jobs([NewJob("idx", unique_key=key, unique_while="pending")])[0].created
    claim(store)
    second = store.insert_jobs([NewJob("idx", unique_key=key, unique_while="pending")])[0]
    third = store.insert_jobs([NewJob("idx", unique_key=key, unique_while="pending")])[0]
    assert second.created and second.job_id != first.job_id
    assert not third.created and third.job_id == second.job_id


def test_fifty_concurrent_enqueues_with_one_key_create_one_job(store: Store, db_url: str) -> None:
    results = []
    barrier = threading.Barrier(50)
    lock = threading.Lock()

    def enqueue() -> None:
        other = open_store(db_url)
        barrier.wait()
        found = other.insert_jobs([NewJob("a", unique_key="same")])[0]
        with lock:
            results.append(found)
        other.close()

    threads = [threading.Thread(target=enqueue) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.created for r in results) == 1
    assert len({r.job_id for r in results}) == 1
    assert store.count_jobs(JobFilter()) == 1


def test_completion_records_result_attempt_and_rollup(store: Store) -> None:
    store.insert_jobs([NewJob("mail", labels_json='{"user_id":"42"}')])
    job = claim(store)[0]
    assert store.complete_jobs("w1", [success(job)], shard=3) == [job.id]
    row = store.get_job(job.id)
    assert row.state == JobState.SUCCEEDED and row.result == {"ok": True}
    assert row.summary == "done" and row.labels == {"user_id": "42"} and row.finished_at
    (attempt,) = store.get_attempts(job.id)
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.worker_id == "w1"
    stats = store.stats_by_task(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert [(s.key, s.succeeded, s.failed) for s in stats] == [("mail", 1, 0)]


def test_the_running_attempt_is_read_off_the_job_until_its_row_is_written(store: Store) -> None:
    store.insert_jobs([NewJob("a")])
    job = claim(store, worker="w7")[0]
    (running,) = store.get_attempts(job.id)
    assert (running.attempt, running.status, running.worker_id) == (1, "running", "w7")
    assert running.started_at == job.started_at and running.finished_at is None
    store.complete_jobs("w7", [success(job)], shard=1)
    (done,) = store.get_attempts(job.id)
    assert (done.attempt, done.status, done.started_at) == (1, "succeeded", job.started_at)


def test_rescue_finishes_a_running_attempt_row_left_by_an_older_version(store: Store) -> None:
    store.insert_jobs([NewJob("a")])
    job = claim(store, worker="old")[0]
    with store.transaction() as conn:  # what versions before migration 0005 wrote at claim time
        conn.execute(
            "INSERT INTO attempts (job_id, attempt, status, worker_id, started_at) "
            f"SELECT id, 1, 'running', 'old', started_at FROM jobs WHERE id = {job.id}"
        )
    assert [a.status for a in store.get_attempts(job.id)] == ["running"]
    set_time(store, datetime.now(UTC) + timedelta(seconds=31))
    assert [r.id for r in store.rescue_expired()] == [job.id]
    (attempt,) = store.get_attempts(job.id)
    assert attempt.status == "failed" and "lease expired" in (attempt.error or "")


def test_completion_is_fenced_on_worker_and_attempt(store: Store) -> None:
    store.insert_jobs([NewJob("a")])
    job = claim(store)[0]
    assert store.complete_jobs("intruder", [success(job)], shard=1) == []
    assert store.complete_jobs("w1", [success(job)], shard=1) == [job.id]
    assert store.complete_jobs("w1", [success(job)], shard=1) == []
    stats = store.stats_by_task(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert stats[0].succeeded == 1


def test_failed_attempts_retry_then_fail_and_count_in_stats(store: Store) -> None:
    store.insert_jobs([NewJob("flaky", max_attempts=2)])
    first = claim(store)[0]
    store.complete_jobs("w1", [failure(first)], shard=1)
    assert store.get_job(first.id).state == JobState.RETRYABLE
    second = claim(store)[0]
    assert second.attempt == 2
    store.complete_jobs("w1", [failure(second, JobState.FAILED)], shard=1)
    row = store.get_job(first.id)
    assert row.state == JobState.FAILED and row.error == "ValueError: boom"
    attempts = store.get_attempts(first.id)
    assert [a.status for a in attempts] == [AttemptStatus.FAILED, AttemptStatus.FAILED]
    assert attempts[1].traceback == "Traceback ..."
    stats = store.stats_by_task(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert (stats[0].succeeded, stats[0].failed) == (0, 2)


def test_rescue_retries_expired_leases_and_fences_the_late_worker(store: Store) -> None:
    store.insert_jobs([NewJob("a", max_attempts=3), NewJob("b", max_attempts=1)])
    jobs = claim(store, worker="sleepy")
    set_time(store, datetime.now(UTC) + timedelta(seconds=31))
    rescued = store.rescue_expired()
    assert {(r.task, r.state) for r in rescued} == {
        ("a", JobState.RETRYABLE),
        ("b", JobState.FAILED),
    }
    again = claim(store, worker="healthy")
    assert [j.task for j in again] == ["a"] and again[0].attempt == 2
    store.complete_jobs("healthy", [success(again[0])], shard=1)
    # The paused worker wakes up and reports its old attempt: nothing changes.
    assert store.complete_jobs("sleepy", [success(j) for j in jobs], shard=2) == []
    assert store.renew_leases("sleepy", 30.0) == 0
    row = store.get_job(again[0].id)
    assert row.state == JobState.SUCCEEDED and row.worker_id == "healthy"
    assert [a.status for a in store.get_attempts(again[0].id)] == ["failed", "succeeded"]
    assert "lease expired" in store.get_attempts(again[0].id)[0].error


def test_a_rescued_job_keeps_its_place_ahead_of_the_backlog(store: Store) -> None:
    clock = set_time(store, datetime.now(UTC))
    first = store.insert_jobs([NewJob("lost")])[0].job_id
    urgent = store.insert_jobs([NewJob("lost-urgent", priority=5)])[0].job_id
    enqueued_at = store.get_job(first).run_at
    assert {j.id for j in claim(store, worker="gone")} == {first, urgent}
    clock.advance(seconds=1)
    store.insert_jobs([NewJob("backlog") for _ in range(20)])
    clock.advance(seconds=31)
    assert {r.id for r in store.rescue_expired()} == {first, urgent}
    assert store.get_job(first).run_at == enqueued_at
    # Run next: the urgent one by its priority, then the other by its original run time.
    assert [j.id for j in claim(store, limit=2)] == [urgent, first]


def test_renewed_lease_is_not_rescued(store: Store) -> None:
    store.insert_jobs([NewJob("a")])
    clock = set_time(store, datetime.now(UTC))
    claim(store)
    clock.advance(seconds=25)
    assert store.renew_leases("w1", 30.0) == 1
    clock.advance(seconds=10)
    assert store.rescue_expired() == []
    clock.advance(seconds=21)
    assert len(store.rescue_expired()) == 1


def test_claims_and_leases_are_stamped_with_the_stores_time_at_the_write(store: Store) -> None:
    store.insert_jobs([NewJob("a"), NewJob("b")])
    before = datetime.now(UTC)
    [job] = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 12.5))
    after = datetime.now(UTC)
    row = store.get_job(job.id)
    assert before <= job.started_at <= after and row.started_at == job.started_at
    assert row.lease_expires_at == job.started_at + timedelta(seconds=12.5)
    # A manual clock given to the store wins over the database's: tests move time by hand.
    clock = set_time(store, datetime(2030, 1, 1, tzinfo=UTC))
    [other] = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    assert other.started_at == clock.now()
    assert store.get_job(other.id).lease_expires_at == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=5)
    assert store.renew_leases("w1", 30.0) == 2
    renewed = {j.id: j.lease_expires_at for j in (store.get_job(job.id), store.get_job(other.id))}
    assert set(renewed.values()) == {clock.now() + timedelta(seconds=30)}


def test_hand_back_returns_job_without_using_an_attempt(store: Store) -> None:
    store.insert_jobs([NewJob("a")])
    job = claim(store)[0]
    assert store.hand_back_jobs("w1", [(job.id, job.attempt)]) == 1
    row = store.get_job(job.id)
    assert row.state == JobState.AVAILABLE and row.attempt == 0
    assert store.get_attempts(job.id) == []
    assert claim(store)[0].attempt == 1


def test_list_filters_and_keyset_pages(store: Store) -> None:
    store.insert_jobs([NewJob("send_email") for _ in range(7)] + [NewJob("other")] * 3)
    newest_first = store.list_jobs(JobFilter(), None, 4)
    assert [j.id for j in newest_first] == sorted((j.id for j in newest_first), reverse=True)
    page2 = store.list_jobs(JobFilter(), newest_first[-1].id, 4)
    assert page2[0].id == newest_first[-1].id - 1
    only_mail = JobFilter(tasks=["send_email"])
    assert store.count_jobs(only_mail) == 7
    assert all(j.task == "send_email" for j in store.list_jobs(only_mail, None, 50))
    pending = JobFilter(states=frozenset({JobState.AVAILABLE, JobState.SCHEDULED}))
    assert store.count_jobs(pending) == 10
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert store.count_jobs(JobFilter(enqueued_from=tomorrow)) == 0
    assert store.count_jobs(JobFilter(enqueued_to=tomorrow)) == 10
    assert store.task_names() == ["other", "send_email"]
    assert store.count_by_state() == {JobState.AVAILABLE: 10}


def test_a_batch_keeps_every_field_of_every_job_in_input_order(store: Store) -> None:
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    batch = [
        NewJob("a", '{"n":1}', '{"team":"x"}', queue="mail", priority=3, timeout=2.5),
        NewJob("b", '{"n":2}', run_at=later, max_attempts=7),
        NewJob("c", '{"n":3}', trigger=Trigger.MANUAL, triggered_by="ops@x"),
    ]
    ids = [r.job_id for r in store.insert_jobs(batch)]
    rows = [store.get_job(job_id) for job_id in ids]
    assert ids == sorted(ids) and [r.args for r in rows] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert (rows[0].queue, rows[0].priority, rows[0].timeout) == ("mail", 3, 2.5)
    assert rows[0].labels == {"team": "x"} and rows[0].state == JobState.AVAILABLE
    assert (rows[1].state, rows[1].run_at, rows[1].max_attempts) == (JobState.SCHEDULED, later, 7)
    assert (rows[2].trigger, rows[2].triggered_by) == (Trigger.MANUAL, "ops@x")


def test_one_task_in_many_states_pages_newest_first(store: Store) -> None:
    ids = [r.job_id for r in store.insert_jobs([NewJob("mail") for _ in range(6)])]
    store.insert_jobs([NewJob("other")])
    done = claim(store, limit=2)
    store.complete_jobs("w1", [success(done[0])], shard=1)
    store.cancel_job(ids[3], datetime.now(UTC))
    mail = JobFilter(tasks=["mail"])
    first = store.list_jobs(mail, None, 4)
    rest = store.list_jobs(mail, first[-1].id, 4)
    assert [j.id for j in first + rest] == sorted(ids, reverse=True)
    assert len({j.state for j in first + rest}) == 4  # succeeded, running, cancelled, available
    assert store.count_jobs(mail) == 6


def test_retry_and_cancel_only_where_they_apply(store: Store) -> None:
    ids = [r.job_id for r in store.insert_jobs([NewJob("a", max_attempts=1), NewJob("b")])]
    job = claim(store, limit=1)[0]
    # Running: marked for its worker to stop, still running; a second cancel changes nothing.
    marked = store.cancel_job(job.id, datetime.now(UTC), "cli:ann@h")
    assert marked.state == JobState.RUNNING and marked.cancelled_by == "cli:ann@h"
    assert store.cancel_job(job.id, datetime.now(UTC)) is None
    store.complete_jobs("w1", [failure(job, JobState.FAILED)], shard=1)
    retried = store.retry_job(job.id, datetime.now(UTC))
    assert retried.state == JobState.AVAILABLE and retried.max_attempts == 2
    cancelled = store.cancel_job(ids[1], datetime.now(UTC))
    assert cancelled.state == JobState.CANCELLED
    assert store.retry_job(ids[1], datetime.now(UTC)).state == JobState.AVAILABLE
    assert store.retry_job(999_999, datetime.now(UTC)) is None


def test_stats_series_buckets(store: Store) -> None:
    store.insert_jobs([NewJob("a") for _ in range(3)])
    jobs = claim(store)
    store.complete_jobs("w1", [success(jobs[0]), success(jobs[1]), failure(jobs[2])], shard=1)
    series = store.stats_series(NOW - timedelta(hours=1), NOW + timedelta(hours=1), 3600)
    assert sum(r.succeeded for r in series) == 2 and sum(r.failed for r in series) == 1


def test_prune_removes_old_finished_jobs_only(store: Store) -> None:
    store.insert_jobs([NewJob("a"), NewJob("b")])
    job = claim(store, limit=1)[0]
    store.complete_jobs("w1", [success(job)], shard=1)
    assert store.prune_finished(datetime.now(UTC) + timedelta(days=1), 100) == 1
    assert store.get_job(job.id) is None and store.get_attempts(job.id) == []
    assert store.count_jobs(JobFilter()) == 1


def test_workers_register_heartbeat_and_stop(store: Store) -> None:
    now = datetime.now(UTC)
    store.register_worker(WorkerInfo("w1", "host", 123, ["default"], 4, now, now))
    (worker,) = store.list_workers(since=now)
    assert worker.clock_offset_ms is None  # not measured yet
    clock = set_time(store, now + timedelta(seconds=5))
    assert store.heartbeat_worker("w1", None, "running", -1250) == clock.now()
    assert store.heartbeat_worker("w1", None, "running") == clock.now()  # keeps the last offset
    (worker,) = store.list_workers(since=now)
    assert worker.last_heartbeat == now + timedelta(seconds=5) and worker.queues == ["default"]
    assert worker.clock_offset_ms == -1250
    assert store.heartbeat_worker("nobody", None, "running") is None
    # An explicit time is written as given (imports, tests of the health pill).
    assert store.heartbeat_worker("w1", now, "running") == now
    clock.advance(seconds=1)
    store.deregister_worker("w1")
    (worker,) = store.list_workers(since=now)
    assert worker.state == "stopped" and worker.last_heartbeat == clock.now()


def test_schedule_trigger_fields_round_trip(store: Store) -> None:
    tick = NOW.replace(second=0)
    job_id = store.insert_jobs(
        [
            NewJob(
                "sla", schedule="sla", tick_at=tick, trigger=Trigger.CRON, triggered_by="scheduler"
            )
        ]
    )[0].job_id
    row = store.get_job(job_id)
    assert (row.schedule, row.tick_at, row.trigger) == ("sla", tick, "cron")
    assert store.count_jobs(JobFilter(schedule="sla")) == 1


def test_enqueue_wakes_a_waiting_consumer(store: Store, db_url: str) -> None:
    waiter = open_store(db_url)
    woke = threading.Event()

    def wait() -> None:
        if waiter.wait_for_jobs(5.0):
            woke.set()

    thread = threading.Thread(target=wait)
    thread.start()
    try:
        # Give the waiter time to subscribe: a wake-up sent before it listens is not missed by
        # design (workers fetch before waiting), but this test wants to see the push itself.
        threading.Event().wait(0.3)
        store.insert_jobs([NewJob("a")])
        assert woke.wait(2.0), "the consumer was not woken by the enqueue"
    finally:
        thread.join()
        waiter.close()


def test_after_id_pages_back_to_newer_jobs(store: Store) -> None:
    ids = [r.job_id for r in store.insert_jobs([NewJob("a") for _ in range(10)])]
    older = store.list_jobs(JobFilter(), ids[5], 3)
    assert [j.id for j in older] == [ids[4], ids[3], ids[2]]
    newer = store.list_jobs(JobFilter(), None, 3, after_id=ids[4])
    assert [j.id for j in newer] == [ids[7], ids[6], ids[5]]
    assert store.list_jobs(JobFilter(), None, 3, after_id=ids[-1]) == []


def test_pruner_removes_jobs_past_retention_and_keeps_the_rollups(store: Store) -> None:
    from jobdeck.clock import ManualClock
    from jobdeck.settings import Settings
    from jobdeck.worker.upkeep import Pruner

    store.insert_jobs([NewJob("old"), NewJob("fresh")])
    jobs = claim(store)
    store.complete_jobs("w1", [success(j) for j in jobs], shard=1)
    clock = ManualClock(datetime.now(UTC) + timedelta(days=31))
    pruner = Pruner(store, clock, Settings(job_retention_days=30))
    pruner.run_once()
    assert not pruner.failing and pruner.pruned == 2
    assert store.count_jobs(JobFilter()) == 0
    stats = store.stats_by_task(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert sum(s.succeeded for s in stats) == 2  # history pruned, numbers kept


def test_compacting_rollups_keeps_every_sum(store: Store) -> None:
    store.insert_jobs([NewJob("a") for _ in range(6)])
    jobs = claim(store)
    old = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    outcomes = []
    for index, job in enumerate(jobs):  # spread over minutes of one hour and the next
        finished = old + timedelta(minutes=17 * index)
        outcome = success(job, finished) if index % 2 else failure(job)
        outcomes.append(
            Outcome(
                job.id,
                job.attempt,
                job.task,
                outcome.status,
                outcome.next_state,
                finished - timedelta(seconds=1),
                finished,
            )
        )
    store.complete_jobs("w1", outcomes, shard=7)
    window = (old - timedelta(hours=1), old + timedelta(hours=3))
    before = store.stats_series(*window, 3600)
    assert store.compact_stats(old + timedelta(hours=2)) >= 3
    after = store.stats_series(*window, 3600)
    assert [(r.key, r.succeeded, r.failed, r.duration_ms) for r in after] == [
        (r.key, r.succeeded, r.failed, r.duration_ms) for r in before
    ]
    assert store.compact_stats(old + timedelta(hours=2)) == 0  # already folded


def test_date_filters_find_exactly_the_jobs_of_the_range(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdeck.clock import ManualClock
    from jobdeck.store import listing

    monkeypatch.setattr(listing, "ID_SLACK", 0)  # the bisected bounds alone must be exact
    clock = ManualClock(datetime(2025, 3, 1, tzinfo=UTC))
    store.clock = clock  # type: ignore[attr-defined]
    days = {}
    for day in range(10):
        ids = [r.job_id for r in store.insert_jobs([NewJob("a") for _ in range(30)])]
        days[day] = set(ids)
        clock.advance(days=1)
    start = datetime(2025, 3, 4, tzinfo=UTC)
    end = datetime(2025, 3, 6, tzinfo=UTC) - timedelta(microseconds=1)
    found = {
        j.id for j in store.list_jobs(JobFilter(enqueued_from=start, enqueued_to=end), None, 500)
    }
    assert found == days[3] | days[4]
    assert store.count_jobs(JobFilter(enqueued_from=start, enqueued_to=end)) == 60


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database only (for features SQLite does not have)."""
    import uuid

    from tests import pgtools

    name = f"jd_{uuid.uuid4().hex[:12]}"
    pgtools.create_database(name, pg_template)
    try:
        yield pgtools.url_for(name)
    finally:
        pgtools.drop_database(name)


def test_enqueue_joins_the_callers_transaction_on_postgres(pg_url: str) -> None:
    import psycopg

    from jobdeck import JobDeck

    db_url = pg_url
    deck = JobDeck(db_url)

    @deck.task(name="welcome")
    def welcome(user_id: int) -> None: ...

    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TABLE app_users (id int primary key)")
        conn.commit()
        conn.execute("INSERT INTO app_users VALUES (1)")
        welcome.enqueue(_conn=conn, user_id=1)
        welcome.enqueue_many([{"user_id": 10}, {"user_id": 11}], _conn=conn)  # by COPY
        conn.rollback()  # the app's write and the jobs vanish together
        conn.execute("INSERT INTO app_users VALUES (2)")
        kept = welcome.options(conn=conn).enqueue(user_id=2)
        batch = welcome.enqueue_many([{"user_id": 20}, {"user_id": 21}], _conn=conn)
        conn.commit()
    assert deck.store.count_jobs(JobFilter(tasks=["welcome"])) == 3
    assert kept.refresh().row.args == {"user_id": 2}
    assert [h.refresh().row.args for h in batch] == [{"user_id": 20}, {"user_id": 21}]
    deck.close()


def test_sqlite_refuses_a_caller_connection_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from jobdeck import ConfigError, JobDeck

    deck = JobDeck(f"sqlite:///{tmp_path / 'x.db'}")
    deck.migrate()

    @deck.task(name="welcome")
    def welcome() -> None: ...

    with pytest.raises(ConfigError, match="PostgreSQL"):
        welcome.enqueue(_conn=object())
    deck.close()
