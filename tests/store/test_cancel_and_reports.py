"""Cancelling running jobs and the progress and log lines tasks report, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import JobProgress, LogLine, NewJob, Outcome, Store
from tests.store.test_store import claim, set_time, success


def cancelled_outcome(job, by: str) -> Outcome:
    return Outcome(
        job.id,
        job.attempt,
        job.task,
        AttemptStatus.CANCELLED,
        JobState.CANCELLED,
        job.started_at,
        datetime.now(UTC),
        error=f"cancelled by {by}",
    )


def test_a_cancelled_running_job_is_an_order_for_its_worker_only(store: Store) -> None:
    store.insert_jobs([NewJob("a"), NewJob("b")])
    mine, theirs = claim(store, worker="w1", limit=1)[0], claim(store, worker="w2", limit=1)[0]
    assert store.worker_orders("w1").cancelled_jobs == {}
    store.cancel_job(mine.id, datetime.now(UTC), "web:ann@example.com")
    assert store.worker_orders("w1").cancelled_jobs == {
        (mine.id, mine.attempt): "web:ann@example.com"
    }
    assert store.worker_orders("w2").cancelled_jobs == {}
    assert store.get_job(theirs.id).cancel_requested_at is None


def test_the_worker_ends_a_cancelled_job_cancelled_and_it_can_be_retried(store: Store) -> None:
    [job] = claim(store) if store.insert_jobs([NewJob("a", unique_key="k")]) else []
    store.cancel_job(job.id, datetime.now(UTC), "cli:bo@h")
    assert store.complete_jobs("w1", [cancelled_outcome(job, "cli:bo@h")], shard=1) == [job.id]
    row = store.get_job(job.id)
    assert row.state == JobState.CANCELLED and row.cancelled_by == "cli:bo@h"
    [attempt] = store.get_attempts(job.id)
    assert attempt.status == AttemptStatus.CANCELLED and attempt.error == "cancelled by cli:bo@h"
    assert store.worker_orders("w1").cancelled_jobs == {}
    # Its unique key is free again, as a failed job's is.
    assert store.insert_jobs([NewJob("a", unique_key="k")])[0].created
    retried = store.retry_job(job.id, datetime.now(UTC))
    assert retried.cancel_requested_at is None and retried.cancelled_by is None


def test_a_cancelled_job_whose_worker_is_lost_ends_cancelled_not_retried(store: Store) -> None:
    store.insert_jobs([NewJob("a", max_attempts=5), NewJob("b", max_attempts=5)])
    cancelled, lost = claim(store, worker="gone")
    store.cancel_job(cancelled.id, datetime.now(UTC), "web:ann@example.com")
    set_time(store, datetime.now(UTC) + timedelta(seconds=31))
    rescued = {r.id: r.state for r in store.rescue_expired()}
    assert rescued == {cancelled.id: JobState.CANCELLED, lost.id: JobState.RETRYABLE}
    assert claim(store, worker="other") and store.get_job(cancelled.id).state == "cancelled"
    [attempt] = store.get_attempts(cancelled.id)
    assert attempt.status == AttemptStatus.CANCELLED
    assert "cancelled by web:ann@example.com" in (attempt.error or "")


def test_progress_keeps_the_latest_per_attempt_and_lines_their_order(store: Store) -> None:
    store.insert_jobs([NewJob("a"), NewJob("b")])
    one, two = claim(store)
    at = datetime.now(UTC).replace(microsecond=0)
    store.write_reports(
        [JobProgress(one.id, 1, 3, 10, "rows", at), JobProgress(two.id, 1, 1, None, None, at)],
        [LogLine(one.id, 1, at, "info", f"line {n}") for n in range(3)],
    )
    store.write_reports([JobProgress(one.id, 1, 7, 10, "more rows", at)], [])
    store.write_reports([], [LogLine(one.id, 1, at, "warning", "last")])
    progress = {p.job_id: p for p in store.get_progress([one.id, two.id])}
    assert (progress[one.id].done, progress[one.id].total, progress[one.id].note) == (
        7,
        10,
        "more rows",
    )
    assert progress[two.id].total is None and progress[one.id].updated_at == at
    lines = store.get_log_lines(one.id)
    assert [(ln.level, ln.message) for ln in lines] == [
        ("info", "line 0"),
        ("info", "line 1"),
        ("info", "line 2"),
        ("warning", "last"),
    ]
    assert store.get_log_lines(two.id) == [] and store.get_progress([]) == []


def test_pruning_a_job_takes_its_progress_and_lines(store: Store) -> None:
    store.insert_jobs([NewJob("a")])
    [job] = claim(store)
    at = datetime.now(UTC)
    store.write_reports(
        [JobProgress(job.id, 1, 1, 1, None, at)], [LogLine(job.id, 1, at, "info", "x")]
    )
    store.complete_jobs("w1", [success(job)], shard=1)
    assert store.prune_finished(datetime.now(UTC) + timedelta(seconds=1), 10) == 1
    assert store.get_progress([job.id]) == [] and store.get_log_lines(job.id) == []
