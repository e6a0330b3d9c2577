"""The wait and duration histograms: written with the counters, read back by bucket, kept by
compaction, and percentiles within the buckets' error bound, on both stores."""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from jobdeck.clock import ManualClock
from jobdeck.control import stats
from jobdeck.control.latency import Percentiles
from jobdeck.latency import BOUNDS_MS, RELATIVE_ERROR, bucket_of
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimedJob, ClaimRequest, NewJob, Outcome, Store

T0 = datetime(2026, 3, 2, 12, 0, 7, tzinfo=UTC)


def done(job: ClaimedJob, duration_ms: int, ok: bool = True) -> Outcome:
    return Outcome(
        job.id,
        job.attempt,
        job.task,
        AttemptStatus.SUCCEEDED if ok else AttemptStatus.FAILED,
        JobState.SUCCEEDED if ok else JobState.FAILED,
        job.started_at,
        job.started_at + timedelta(milliseconds=duration_ms),
        wait_ms=job.wait_ms,
    )


def run(store: Store, task: str, waits: list[int], durations: list[int]) -> None:
    """Jobs due ``waits`` ms before T0, claimed at T0, each running its ``durations`` ms."""
    clock = ManualClock(T0)
    store.clock = clock  # type: ignore[attr-defined]
    due = [T0 - timedelta(milliseconds=w) for w in waits]
    store.insert_jobs([NewJob(task, run_at=at) for at in due])
    jobs = store.claim_jobs(ClaimRequest("w1", ["default"], len(waits), 30.0))
    assert sorted(j.wait_ms or 0 for j in jobs) == sorted(waits)
    by_wait = sorted(jobs, key=lambda j: j.wait_ms or 0)
    ordered = sorted(range(len(waits)), key=lambda i: waits[i])
    outcomes = [done(job, durations[i]) for job, i in zip(by_wait, ordered, strict=True)]
    assert len(store.complete_jobs("w1", outcomes, shard=3)) == len(outcomes)


def test_completion_writes_both_histograms_by_bucket(store: Store) -> None:
    run(store, "resize", waits=[0, 2_500, 2_500], durations=[40, 40, 1_234])
    rows = store.latency_histograms(T0 - timedelta(hours=1), T0 + timedelta(hours=1), 3600)
    found = {(r.kind, r.bucket): (r.count, r.total_ms) for r in rows}
    assert found == {
        ("wait", bucket_of(0)): (1, 0),
        ("wait", bucket_of(2_500)): (2, 5_000),
        ("duration", bucket_of(40)): (2, 80),
        ("duration", bucket_of(1_234)): (1, 1_234),
    }
    assert {r.task for r in rows} == {"resize"}
    assert {r.start for r in rows} == {datetime(2026, 3, 2, 12, tzinfo=UTC)}
    # An attempt whose wait nobody measured counts in the duration histogram only.
    store.insert_jobs([NewJob("resize")])
    (job,) = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    unmeasured = dataclasses.replace(done(job, 40), wait_ms=None)
    store.complete_jobs("w1", [unmeasured], shard=3)
    rows = store.latency_histograms(T0 - timedelta(hours=1), T0 + timedelta(hours=1), 3600)
    counts = Counter({r.kind: 0 for r in rows})
    for r in rows:
        counts[r.kind] += r.count
    assert counts == {"wait": 3, "duration": 4}


def test_histograms_are_read_per_time_bucket(store: Store) -> None:
    run(store, "a", waits=[10], durations=[10])
    later = T0 + timedelta(minutes=7)
    store.clock = ManualClock(later)  # type: ignore[attr-defined]
    store.insert_jobs([NewJob("a")])
    (job,) = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    store.complete_jobs("w1", [done(job, 10)], shard=3)
    rows = store.latency_histograms(T0 - timedelta(minutes=10), later + timedelta(minutes=1), 300)
    starts = sorted({r.start for r in rows})
    assert starts == [
        datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 12, 5, tzinfo=UTC),
    ]
    outside = store.latency_histograms(T0 + timedelta(hours=1), T0 + timedelta(hours=2), 300)
    assert outside == []


def test_compaction_keeps_every_bucket(store: Store) -> None:
    old = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    for minutes in (0, 17, 34, 51, 68, 85):  # slots of one hour and the next
        store.clock = ManualClock(old + timedelta(minutes=minutes))  # type: ignore[attr-defined]
        store.insert_jobs([NewJob("a", run_at=old)])
        (job,) = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
        store.complete_jobs("w1", [done(job, 5 * minutes + 3)], shard=7)
    window = (old - timedelta(hours=1), old + timedelta(hours=3))

    def summed() -> set[tuple[str, int, int, int]]:
        rows = store.latency_histograms(*window, 4 * 3600)
        return {(r.kind, r.bucket, r.count, r.total_ms) for r in rows}

    before = summed()
    assert len(before) == 12
    store.compact_stats(old + timedelta(hours=2))
    assert summed() == before
    hourly = store.latency_histograms(*window, 3600)
    assert {r.start for r in hourly} == {old, old + timedelta(hours=1)}
    store.compact_stats(old + timedelta(hours=2))  # a second run folds nothing more
    assert summed() == before


def nearest_rank(values: list[int], q: int) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1]


def assert_close(found: Percentiles, values: list[int]) -> None:
    assert found.count == len(values)
    for q, estimate in ((50, found.p50), (95, found.p95), (99, found.p99)):
        true = nearest_rank(values, q)
        assert estimate is not None
        if true <= BOUNDS_MS[0]:
            assert abs(estimate - true) <= BOUNDS_MS[0], (q, estimate, true)
        else:
            assert abs(estimate - true) / true <= RELATIVE_ERROR, (q, estimate, true)


def test_percentiles_are_within_the_bucket_error_for_known_distributions(store: Store) -> None:
    rng = random.Random(17)
    # Waits: exponential, mean 200 ms; durations: log-normal around 50 ms with a long tail.
    waits = [round(rng.expovariate(1 / 200)) for _ in range(600)]
    durations = [max(0, round(rng.lognormvariate(math.log(50), 1.2))) for _ in range(600)]
    run(store, "email", waits, durations)
    # A second task, uniform over several decades: each percentile lands in a different one.
    slow_waits = [rng.randrange(1, 3_600_000) for _ in range(400)]
    slow_durations = [rng.randrange(1_000, 600_000) for _ in range(400)]
    run(store, "report", slow_waits, slow_durations)
    read = stats(store, ManualClock(T0 + timedelta(minutes=30)), "1h").latency
    assert [t.task for t in read.by_task] == ["email", "report"]  # busiest first
    assert_close(read.of_task("email").wait, waits)
    assert_close(read.of_task("email").duration, durations)
    assert_close(read.of_task("report").wait, slow_waits)
    assert_close(read.of_task("report").duration, slow_durations)
    assert_close(read.overall.wait, waits + slow_waits)
    assert_close(read.overall.duration, durations + slow_durations)
    # The series holds the same attempts in the time bucket they finished in.
    points = [p for p in read.series if p.latency.duration.count]
    assert sum(p.latency.duration.count for p in points) == 1_000
    assert read.of_task("nothing-ran").wait == Percentiles()
