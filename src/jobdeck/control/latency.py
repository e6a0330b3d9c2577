"""Wait and duration percentiles (p50, p95, p99) per task, overall and over time, read from
the histogram rollups (see jobdeck.latency for the buckets and their error bound)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jobdeck.latency import DURATION, KINDS, PERCENTILES, WAIT, percentiles
from jobdeck.store.base import LatencyRow, Store

# The histograms are written per 15 minutes: no chart point is finer than that.
SLOT_SECONDS = 900


@dataclass(frozen=True)
class Percentiles:
    """Of one histogram, in milliseconds (None: nothing observed)."""

    count: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True)
class Latency:
    """Wait (due to start) and duration (start to end) of the attempts of one task, one time
    bucket, or all of them."""

    wait: Percentiles = field(default_factory=Percentiles)
    duration: Percentiles = field(default_factory=Percentiles)


@dataclass(frozen=True)
class TaskLatency:
    task: str
    latency: Latency


@dataclass(frozen=True)
class LatencyPoint:
    start: datetime
    latency: Latency


@dataclass(frozen=True)
class LatencyStats:
    bucket_seconds: int  # of the series: the period's, but never under SLOT_SECONDS
    overall: Latency
    by_task: list[TaskLatency]
    series: list[LatencyPoint]

    def of_task(self, task: str) -> Latency:
        return next((t.latency for t in self.by_task if t.task == task), Latency())


class Histogram:
    """Counts and sums (ms) by bucket index, summed from rollup rows."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = defaultdict(int)
        self.sums: dict[int, int] = defaultdict(int)

    def add(self, bucket: int, count: int, total_ms: int) -> None:
        self.counts[bucket] += count
        self.sums[bucket] += total_ms

    def percentiles(self) -> Percentiles:
        count = sum(self.counts.values())
        if not count:
            return Percentiles()
        p50, p95, p99 = percentiles(self.counts, self.sums, PERCENTILES)
        return Percentiles(count, p50, p95, p99)


class Histograms:
    """A wait and a duration histogram."""

    def __init__(self) -> None:
        self.kinds = {kind: Histogram() for kind in KINDS}

    def latency(self) -> Latency:
        return Latency(self.kinds[WAIT].percentiles(), self.kinds[DURATION].percentiles())

    def count(self) -> int:
        return sum(self.kinds[DURATION].counts.values())

    def add_all(self, other: Histograms) -> None:
        for kind, histogram in other.kinds.items():
            for bucket, count in histogram.counts.items():
                self.kinds[kind].add(bucket, count, histogram.sums[bucket])


def latency_stats(
    store: Store, since: datetime, until: datetime, bucket_seconds: int
) -> LatencyStats:
    """Percentiles over [since, until], widened to whole time buckets (15 minutes at least):
    overall, per task (busiest first) and per time bucket (every bucket present, empty ones
    with no values)."""
    bucket = max(bucket_seconds, SLOT_SECONDS)
    start = _floor(since, bucket)
    # A minute past now: the slot starting this very second is read too.
    end = until + timedelta(minutes=1)
    by_time = {
        datetime.fromisoformat(key).timestamp(): histograms
        for key, histograms in _sum_rows(store.latency_series(start, end, bucket)).items()
    }
    # From the series' start too: both read the same rows (older ones are 2 or 6 hours long,
    # aligned as the 7- and 30-day charts' steps are).
    by_task = _sum_rows(store.latency_by_task(start, end))
    overall = Histograms()
    for histograms in by_task.values():
        overall.add_all(histograms)
    busiest = sorted(by_task.items(), key=lambda kv: (-kv[1].count(), kv[0]))
    series = []
    moment = start
    while moment <= until:
        found = by_time.get(moment.timestamp())
        series.append(LatencyPoint(moment, found.latency() if found else Latency()))
        moment += timedelta(seconds=bucket)
    return LatencyStats(
        bucket_seconds=bucket,
        overall=overall.latency(),
        by_task=[TaskLatency(task, histograms.latency()) for task, histograms in busiest],
        series=series,
    )


def histograms_by_task(store: Store, since: datetime, until: datetime) -> dict[str, Histograms]:
    """Each task's histograms summed over [since, until) (what /metrics exposes)."""
    return _sum_rows(store.latency_by_task(since, until))


def _sum_rows(rows: Iterable[LatencyRow]) -> dict[str, Histograms]:
    """Rows by their key (a task, or a time bucket's ISO start)."""
    summed: dict[str, Histograms] = defaultdict(Histograms)
    for row in rows:
        if row.kind in KINDS:  # not a kind a newer jobdeck writes
            summed[row.key].kinds[row.kind].add(row.bucket, row.count, row.total_ms)
    return summed


def _floor(moment: datetime, bucket: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % bucket, moment.tzinfo)
