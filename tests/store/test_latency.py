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


def by_task(
    store: Store, since: datetime, until: datetime
) -> dict[tuple[str, str, int], tuple[int, int]]:
    rows = store.latency_by_task(since, until)
    return {(r.key, r.kind, r.bucket): (r.count, r.total_ms) for r in rows}


def test_completion_writes_both_histograms_by_bucket(store: Store) -> None:
    run(store, "resize", waits=[0, 2_500, 2_500], durations=[40, 40, 1_234])
    hour = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert by_task(store, *hour) == {
        ("resize", "wait", bucket_of(0)): (1, 0),
        ("resize", "wait", bucket_of(2_500)): (2, 5_000),
        ("resize", "duration", bucket_of(40)): (2, 80),
        ("resize", "duration", bucket_of(1_234)): (1, 1_234),
    }
    series = store.latency_series(*hour, 3600)
    assert {r.key for r in series} == {"2026-03-02T12:00:00+00:00"}
    assert sum(r.count for r in series) == 6
    # An attempt whose wait nobody measured counts in the duration histogram only.
    store.insert_jobs([NewJob("resize")])
    (job,) = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    unmeasured = dataclasses.replace(done(job, 40), wait_ms=None)
    store.complete_jobs("w1", [unmeasured], shard=3)
    counts: Counter[str] = Counter()
    for r in store.latency_by_task(*hour):
        counts[r.kind] += r.count
    assert counts == {"wait": 3, "duration": 4}


def test_the_series_sums_every_task_per_time_bucket(store: Store) -> None:
    run(store, "a", waits=[10], durations=[10])
    run(store, "b", waits=[20], durations=[20])
    later = T0 + timedelta(minutes=17)  # the next 15-minute slot
    store.clock = ManualClock(later)  # type: ignore[attr-defined]
    store.insert_jobs([NewJob("a")])
    (job,) = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    store.complete_jobs("w1", [done(job, 10)], shard=3)
    window = (T0 - timedelta(minutes=30), later + timedelta(minutes=1))
    found = {(r.key, r.kind, r.bucket): r.count for r in store.latency_series(*window, 900)}
    assert found == {
        ("2026-03-02T12:00:00+00:00", "wait", bucket_of(10)): 1,
        ("2026-03-02T12:00:00+00:00", "wait", bucket_of(20)): 1,
        ("2026-03-02T12:00:00+00:00", "duration", bucket_of(10)): 1,
        ("2026-03-02T12:00:00+00:00", "duration", bucket_of(20)): 1,
        ("2026-03-02T12:15:00+00:00", "wait", bucket_of(0)): 1,
        ("2026-03-02T12:15:00+00:00", "duration", bucket_of(10)): 1,
    }
    assert store.latency_series(T0 + timedelta(hours=1), T0 + timedelta(hours=2), 900) == []
    assert store.latency_by_task(T0 + timedelta(hours=1), T0 + timedelta(hours=2)) == []


def test_compaction_folds_histograms_coarser_with_age_and_keeps_every_bucket(
    store: Store,
) -> None:
    now = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    before = now - timedelta(hours=25)
    pairs = [  # each pair ends in one slot of the size rows that old fold into
        (datetime(2025, 2, 28, 23, 10, tzinfo=UTC), None),  # 50 minutes ago: not folded
        (datetime(2025, 2, 27, 12, 5, tzinfo=UTC), datetime(2025, 2, 27, 13, 40, tzinfo=UTC)),
        (datetime(2025, 2, 19, 6, 30, tzinfo=UTC), datetime(2025, 2, 19, 10, 0, tzinfo=UTC)),
        (datetime(2025, 1, 9, 3, 0, tzinfo=UTC), datetime(2025, 1, 9, 20, 0, tzinfo=UTC)),
    ]
    moments = [m for pair in pairs for m in pair if m is not None]
    for index, moment in enumerate(moments):
        store.clock = ManualClock(moment)  # type: ignore[attr-defined]
        store.insert_jobs([NewJob("a")])
        (job,) = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
        store.complete_jobs("w1", [done(job, 5 * index + 3)], shard=7)
    window = (now - timedelta(days=60), now + timedelta(hours=1))
    everything = 90 * 86400

    def summed() -> set[tuple[str, int, int, int]]:
        rows = store.latency_series(*window, everything)
        return {(r.kind, r.bucket, r.count, r.total_ms) for r in rows}

    before_folding = summed()
    assert sum(count for _, _, count, _ in before_folding) == 2 * len(moments)
    store.compact_stats(before)
    assert summed() == before_folding
    assert by_task(store, *window) == {
        ("a", kind, bucket): (count, total) for kind, bucket, count, total in before_folding
    }
    starts = {datetime.fromisoformat(r.key) for r in store.latency_series(*window, 900)}
    assert starts == {  # a 15-minute slot, then 2-hour, 6-hour and day rows
        datetime(2025, 2, 28, 23, 0, tzinfo=UTC),
        datetime(2025, 2, 27, 12, 0, tzinfo=UTC),
        datetime(2025, 2, 19, 6, 0, tzinfo=UTC),
        datetime(2025, 1, 9, 0, 0, tzinfo=UTC),
    }
    store.compact_stats(before)  # a second run folds nothing more
    assert summed() == before_folding


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
    # The series holds the same attempts in the time buckets they finished in.
    points = [p for p in read.series if p.latency.duration.count]
    assert sum(p.latency.duration.count for p in points) == 1_000
    assert read.of_task("nothing-ran").wait == Percentiles()
