"""The fenced verbs, called directly: a write that names a worker and an attempt changes a job
only while that worker still runs that attempt; a late one changes nothing and says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobdeck.clock import ManualClock
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimedJob, ClaimRequest, NewJob, Outcome, Store

T0 = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
LEASE = 30.0


def manual_clock(store: Store) -> ManualClock:
    """The store reads this clock from now on (see the Store protocol on time)."""
    clock = ManualClock(T0)
    store.clock = clock  # type: ignore[attr-defined]
    return clock


def claim_one(store: Store, worker: str) -> ClaimedJob:
    [job] = store.claim_jobs(ClaimRequest(worker, ["default"], 1, LEASE))
    return job


def done(job: ClaimedJob, attempt: int | None = None) -> Outcome:
    return Outcome(
        job.id,
        job.attempt if attempt is None else attempt,
        job.task,
        AttemptStatus.SUCCEEDED,
        JobState.SUCCEEDED,
        job.started_at,
        job.started_at + timedelta(seconds=1),
        result_json='{"by":"late"}',
    )


def lose_lease(store: Store, clock: ManualClock) -> None:
    """The lease runs out and a rescuer takes the job back."""
    clock.advance(seconds=LEASE + 1)
    assert store.rescue_expired(), "nothing was rescued"


def test_a_stale_attempt_cannot_complete_even_from_the_worker_that_runs_the_next(
    store: Store,
) -> None:
    clock = manual_clock(store)
    store.insert_jobs([NewJob("a", max_attempts=3)])
    first = claim_one(store, "w1")
    lose_lease(store, clock)
    second = claim_one(store, "w1")  # the same worker claims it again: attempt 2
    assert second.attempt == first.attempt + 1
    attempts_before = store.get_attempts(first.id)
    stats_window = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    stats_before = store.stats_by_task(*stats_window)

    assert store.complete_jobs("w1", [done(first)], shard=1) == []
    row = store.get_job(first.id)
    assert row is not None and (row.state, row.attempt) == (JobState.RUNNING, 2)
    assert row.result is None
    assert store.get_attempts(first.id) == attempts_before  # no attempt row for the late write
    assert store.stats_by_task(*stats_window) == stats_before  # nor a count in the rollups

    assert store.complete_jobs("w1", [done(second)], shard=1) == [second.id]
    assert store.complete_jobs("w1", [done(second)], shard=1) == []  # a replay: already done


def test_complete_applies_the_fenced_outcomes_of_a_batch_and_names_them(store: Store) -> None:
    manual_clock(store)
    store.insert_jobs([NewJob("a"), NewJob("b"), NewJob("c")])
    mine = claim_one(store, "w1")
    theirs = claim_one(store, "w2")
    misnamed = claim_one(store, "w1")
    batch = [done(theirs), done(mine), done(misnamed, attempt=misnamed.attempt + 1)]
    assert store.complete_jobs("w1", batch, shard=1) == [mine.id]
    for refused, worker in ((theirs, "w2"), (misnamed, "w1")):
        row = store.get_job(refused.id)
        assert row is not None and (row.state, row.worker_id) == (JobState.RUNNING, worker)
    assert store.complete_jobs("w1", [], shard=1) == []


def test_hand_back_is_fenced_on_worker_and_attempt(store: Store) -> None:
    manual_clock(store)
    store.insert_jobs([NewJob("a")])
    job = claim_one(store, "w1")
    assert store.hand_back_jobs("w2", [(job.id, job.attempt)]) == 0  # not its job
    assert store.hand_back_jobs("w1", [(job.id, job.attempt + 1)]) == 0  # not its attempt
    row = store.get_job(job.id)
    assert row is not None and (row.state, row.worker_id) == (JobState.RUNNING, "w1")

    assert store.hand_back_jobs("w1", [(job.id, job.attempt)]) == 1
    assert store.hand_back_jobs("w1", [(job.id, job.attempt)]) == 0  # handed back already
    assert store.hand_back_jobs("w1", []) == 0


def test_a_rescued_job_cannot_be_handed_back_by_its_late_worker(store: Store) -> None:
    clock = manual_clock(store)
    store.insert_jobs([NewJob("a", max_attempts=3)])
    job = claim_one(store, "w1")
    lose_lease(store, clock)
    rescued = store.get_job(job.id)
    assert store.hand_back_jobs("w1", [(job.id, job.attempt)]) == 0
    assert store.get_job(job.id) == rescued  # the attempt it used stays used
    again = claim_one(store, "w2")
    assert store.hand_back_jobs("w1", [(job.id, job.attempt)]) == 0
    assert store.hand_back_jobs("w1", [(job.id, again.attempt)]) == 0  # w2 runs that one
    row = store.get_job(job.id)
    assert row is not None and (row.state, row.worker_id) == (JobState.RUNNING, "w2")


def test_renewing_extends_only_the_workers_own_running_leases(store: Store) -> None:
    clock = manual_clock(store)
    store.insert_jobs([NewJob("a"), NewJob("b"), NewJob("c")])
    mine = claim_one(store, "w1")
    theirs = claim_one(store, "w2")
    finished = claim_one(store, "w1")
    store.complete_jobs("w1", [done(finished)], shard=1)
    clock.advance(seconds=10)

    assert store.renew_leases("w1", 60.0) == 1  # the finished job holds no lease
    assert store.get_job(mine.id).lease_expires_at == clock.now() + timedelta(seconds=60)  # type: ignore[union-attr]
    assert store.get_job(theirs.id).lease_expires_at == T0 + timedelta(seconds=LEASE)  # type: ignore[union-attr]
    assert store.get_job(finished.id).lease_expires_at is None  # type: ignore[union-attr]
    assert store.renew_leases("nobody", 60.0) == 0


def test_a_late_renewal_does_not_bring_a_rescued_lease_back(store: Store) -> None:
    clock = manual_clock(store)
    store.insert_jobs([NewJob("a", max_attempts=3)])
    job = claim_one(store, "w1")
    lose_lease(store, clock)
    assert store.renew_leases("w1", 60.0) == 0
    row = store.get_job(job.id)
    assert row is not None and row.state == JobState.RETRYABLE and row.lease_expires_at is None
    claim_one(store, "w2")
    assert store.renew_leases("w1", 60.0) == 0  # the job runs again, for another worker
    assert store.get_job(job.id).lease_expires_at == clock.now() + timedelta(seconds=LEASE)  # type: ignore[union-attr]


def test_rescue_passes_over_the_callers_own_worker_and_live_leases(store: Store) -> None:
    clock = manual_clock(store)
    store.insert_jobs([NewJob("a"), NewJob("b"), NewJob("c")])
    own = claim_one(store, "self")
    lost = claim_one(store, "gone")
    clock.advance(seconds=LEASE / 2)
    alive = claim_one(store, "busy")
    clock.advance(seconds=LEASE / 2 + 1)  # the first two leases are out, the third is not

    rescued = store.rescue_expired(skip_worker="self")
    assert [(r.id, r.worker_id, r.state) for r in rescued] == [
        (lost.id, "gone", JobState.RETRYABLE)
    ]
    for kept in (own, alive):
        row = store.get_job(kept.id)
        assert row is not None and row.state == JobState.RUNNING
    assert [r.id for r in store.rescue_expired()] == [own.id]  # without the skip: now, once
    assert store.rescue_expired() == []
