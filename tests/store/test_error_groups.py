"""The error-group verbs on both stores: complete_jobs writes a failure's group in its batch,
the period's groups and sparklines read the rollup, mute, retry a group in batches, compact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobdeck.fingerprints import fingerprint
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimRequest, JobFilter, NewJob, Outcome, Store

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
TRACE = 'Traceback (most recent call last):\n  File "/srv/app/billing.py", line 9, in charge\n'
HOUR = timedelta(hours=1)


def fail_jobs(
    store: Store,
    task: str,
    errors: list[str],
    *,
    final: bool = True,
    shard: int = 1,
    finished: datetime | None = None,
) -> list[int]:
    """Enqueue one job per error, claim them and fail each with its error in one batch."""
    store.insert_jobs([NewJob(task) for _ in errors])
    claimed = store.claim_jobs(ClaimRequest("w1", ("default",), len(errors), 30.0))
    end = finished or datetime.now(UTC)
    outcomes = [
        Outcome(
            job.id,
            job.attempt,
            job.task,
            AttemptStatus.FAILED,
            JobState.FAILED if final else JobState.RETRYABLE,
            job.started_at,
            end,
            run_at=None if final else end + HOUR,
            error=error,
            traceback=TRACE,
            error_group=fingerprint(error, TRACE),
        )
        for job, error in zip(claimed, errors, strict=True)
    ]
    store.complete_jobs("w1", outcomes, shard)
    return [job.id for job in claimed]


def test_a_batch_of_failures_writes_one_group_per_fingerprint_with_its_counts(
    store: Store,
) -> None:
    ids = fail_jobs(store, "charge", ["KeyError: user 1", "KeyError: user 2", "OSError: disk"])
    fail_jobs(store, "refund", ["KeyError: user 3"])
    groups = store.list_error_groups(NOW - HOUR, NOW + HOUR, include_muted=True, limit=10)
    assert [(g.exception, g.title, g.failures, g.tasks) for g in groups] == [
        ("KeyError", "user <n>", 3, 2),
        ("OSError", "disk", 1, 1),
    ]
    key_error = groups[0]
    assert key_error.task == "charge" and key_error.frame == "app/billing.py in charge"
    assert key_error.sample_job_id == ids[0] and key_error.sample_error == "KeyError: user 1"
    assert key_error.sample_traceback == TRACE and not key_error.muted
    assert key_error.first_seen <= key_error.last_seen + timedelta(minutes=1)
    job = store.get_job(ids[1])
    assert job is not None and job.error_group == key_error.fingerprint
    page = store.list_jobs(JobFilter(error_group=key_error.fingerprint), None, 10)
    assert len(page) == 3 and {j.task for j in page} == {"charge", "refund"}
    assert store.count_jobs(JobFilter(error_group=groups[1].fingerprint)) == 1


def test_the_period_limits_counts_and_the_series_buckets_them(store: Store) -> None:
    fail_jobs(store, "charge", ["KeyError: user 1"], finished=NOW - 3 * HOUR)
    fail_jobs(store, "charge", ["KeyError: user 2", "KeyError: user 3"], finished=NOW)
    [group] = store.list_error_groups(NOW - HOUR, NOW + HOUR, include_muted=True, limit=10)
    assert group.failures == 2
    assert store.list_error_groups(NOW - 5 * HOUR, NOW - 2 * HOUR, True, 10)[0].failures == 1
    points = store.error_group_series(NOW - 4 * HOUR, NOW + HOUR, 3600, [group.fingerprint])
    by_bucket = {p.bucket: p.failures for p in points}
    assert by_bucket == {
        (NOW - 3 * HOUR).replace(minute=0): 1,
        NOW.replace(minute=0): 2,
    }
    assert store.error_group_series(NOW - HOUR, NOW, 60, []) == []
    everything = store.get_error_group(group.fingerprint)
    assert everything is not None and everything.failures == 3
    assert store.get_error_group("0" * 16) is None


def test_a_muted_group_is_left_out_unless_asked_for(store: Store) -> None:
    fail_jobs(store, "charge", ["KeyError: user 1"])
    [group] = store.list_error_groups(NOW - HOUR, NOW + HOUR, True, 10)
    assert store.set_error_group_muted(group.fingerprint, "alice", NOW)
    assert store.list_error_groups(NOW - HOUR, NOW + HOUR, False, 10) == []
    muted = store.get_error_group(group.fingerprint)
    assert muted is not None and muted.muted and muted.muted_by == "alice"
    assert store.set_error_group_muted(group.fingerprint, None, NOW)
    unmuted = store.list_error_groups(NOW - HOUR, NOW + HOUR, False, 10)
    assert [g.muted_by for g in unmuted] == [None]
    assert not store.set_error_group_muted("0" * 16, "alice", NOW)


def test_retrying_a_group_goes_in_id_batches_and_only_takes_failed_or_retrying_jobs(
    store: Store,
) -> None:
    failed = fail_jobs(store, "charge", [f"KeyError: user {i}" for i in range(5)])
    retrying = fail_jobs(store, "charge", ["KeyError: user 9"], final=False)
    other = fail_jobs(store, "charge", ["OSError: disk"])
    group = store.get_job(failed[0])
    assert group is not None and group.error_group is not None
    first = store.retry_error_group(group.error_group, NOW, 0, 4)
    assert first == failed[:4]
    rest = store.retry_error_group(group.error_group, NOW, first[-1], 4)
    assert rest == [failed[4], *retrying]
    assert store.retry_error_group(group.error_group, NOW, rest[-1], 4) == []
    for job_id in failed + retrying:
        job = store.get_job(job_id)
        assert job is not None and job.state == JobState.AVAILABLE
    untouched = store.get_job(other[0])
    assert untouched is not None and untouched.state == JobState.FAILED


def test_a_group_retried_and_then_succeeding_leaves_it(store: Store) -> None:
    [job_id] = fail_jobs(store, "charge", ["KeyError: user 1"])
    job = store.get_job(job_id)
    assert job is not None and job.error_group is not None
    store.retry_error_group(job.error_group, NOW, 0, 10)
    [again] = store.claim_jobs(ClaimRequest("w1", ("default",), 1, 30.0))
    end = datetime.now(UTC)
    done = Outcome(
        again.id, again.attempt, again.task, AttemptStatus.SUCCEEDED, JobState.SUCCEEDED,
        again.started_at, end, result_json="{}",
    )  # fmt: skip
    store.complete_jobs("w1", [done], 1)
    assert store.count_jobs(JobFilter(error_group=job.error_group)) == 0


def test_compacting_the_rollup_keeps_every_count(store: Store) -> None:
    old = NOW - timedelta(days=3)
    fail_jobs(store, "charge", ["KeyError: user 1"], finished=old, shard=1)
    fail_jobs(store, "charge", ["KeyError: user 2"], finished=old + timedelta(minutes=2), shard=2)
    before = store.list_error_groups(old - HOUR, NOW, True, 10)
    assert store.compact_error_groups(NOW - timedelta(days=1)) == 2
    assert store.compact_error_groups(NOW - timedelta(days=1)) == 0
    after = store.list_error_groups(old - HOUR, NOW, True, 10)
    assert [g.failures for g in after] == [g.failures for g in before] == [2]


def test_the_pruner_folds_the_error_group_rollup_as_it_folds_the_stats(store: Store) -> None:
    from jobdeck.clock import ManualClock
    from jobdeck.settings import Settings
    from jobdeck.worker.upkeep import Pruner

    old = NOW - timedelta(days=3)
    fail_jobs(store, "charge", ["KeyError: user 1"], finished=old, shard=1)
    fail_jobs(store, "charge", ["KeyError: user 2"], finished=old + timedelta(minutes=2), shard=2)
    pruner = Pruner(store, ManualClock(NOW), Settings())
    pruner.run_once()
    assert not pruner.failing
    assert store.compact_error_groups(NOW - timedelta(days=1)) == 0  # already folded
    [group] = store.list_error_groups(old - HOUR, NOW, True, 10)
    assert group.failures == 2


def test_the_pruner_folds_recent_hours_into_the_buckets_the_views_read(store: Store) -> None:
    from jobdeck.clock import ManualClock
    from jobdeck.settings import Settings
    from jobdeck.worker.upkeep import Pruner

    old = NOW - 3 * HOUR  # past the 1h view: read in 5-minute buckets from now on
    fail_jobs(store, "charge", ["KeyError: user 1"], finished=old + timedelta(minutes=1), shard=1)
    fail_jobs(store, "charge", ["KeyError: user 2"], finished=old + timedelta(minutes=3), shard=2)
    fail_jobs(store, "charge", ["KeyError: user 3"], finished=NOW, shard=1)
    [group] = store.list_error_groups(old - HOUR, NOW + HOUR, True, 10)
    Pruner(store, ManualClock(NOW), Settings()).run_once()
    points = store.error_group_series(old - HOUR, NOW + HOUR, 60, [group.fingerprint])
    assert all(p.bucket.timestamp() % 300 == 0 for p in points if p.bucket < NOW - HOUR)
    assert sum(p.failures for p in points) == 3
    assert {p.bucket: p.failures for p in points}[NOW] == 1  # the last hour keeps its minutes
    again = store.compact_error_groups(NOW - HOUR - timedelta(minutes=NOW.minute % 5), 300)
    assert again == 0
