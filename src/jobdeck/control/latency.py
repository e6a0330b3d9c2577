"""Wait and duration percentiles (p50, p95, p99) per task, overall and over time, read from
the histogram rollups (see jobdeck.latency for the buckets and their error bound)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jobdeck.latency import DURATION, KINDS, WAIT, percentile
from jobdeck.store.base import LatencyRow, Store

# The histograms are kept per five minutes: no chart point is finer than that.
SLOT_SECONDS = 300


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

    def add(self, row: LatencyRow) -> None:
        self.counts[row.bucket] += row.count
        self.sums[row.bucket] += row.total_ms

    def percentiles(self) -> Percentiles:
        count = sum(self.counts.values())
        if not count:
            return Percentiles()
        p50, p95, p99 = (percentile(self.counts, self.sums, q) for q in (50, 95, 99))
        return Percentiles(count, p50, p95, p99)


class Histograms:
    """A wait and a duration histogram."""

    def __init__(self) -> None:
        self.kinds = {kind: Histogram() for kind in KINDS}

    def latency(self) -> Latency:
        return Latency(self.kinds[WAIT].percentiles(), self.kinds[DURATION].percentiles())


def latency_stats(
    store: Store, since: datetime, until: datetime, bucket_seconds: int
) -> LatencyStats:
    """Percentiles over [since, until]: overall, per task (busiest first) and per time bucket
    (every bucket present, empty ones with no values)."""
    bucket = max(bucket_seconds, SLOT_SECONDS)
    start = _floor(since, bucket)
    # A minute past now: the slot starting this very second is read too.
    rows = store.latency_histograms(start, until + timedelta(minutes=1), bucket)
    overall, by_task, by_time = _sum_rows(rows)
    busiest = sorted(by_task.items(), key=lambda kv: (-_count(kv[1]), kv[0]))
    series = []
    moment = start
    while moment <= until:
        pair = by_time.get(moment)
        series.append(LatencyPoint(moment, pair.latency() if pair else Latency()))
        moment += timedelta(seconds=bucket)
    return LatencyStats(
        bucket_seconds=bucket,
        overall=overall.latency(),
        by_task=[TaskLatency(task, pair.latency()) for task, pair in busiest],
        series=series,
    )


def histograms_by_task(store: Store, since: datetime, until: datetime) -> dict[str, Histograms]:
    """Each task's histograms summed over [since, until) (what /metrics exposes)."""
    span = max(1, int((until - since).total_seconds()) + 1)
    return _sum_rows(store.latency_histograms(since, until, span))[1]


def _sum_rows(
    rows: Iterable[LatencyRow],
) -> tuple[Histograms, dict[str, Histograms], dict[datetime, Histograms]]:
    overall = Histograms()
    by_task: dict[str, Histograms] = defaultdict(Histograms)
    by_time: dict[datetime, Histograms] = defaultdict(Histograms)
    for row in rows:
        if row.kind not in overall.kinds:
            continue  # a kind a newer jobdeck writes
        for pair in (overall, by_task[row.task], by_time[row.start]):
            pair.kinds[row.kind].add(row)
    return overall, by_task, by_time


def _count(pair: Histograms) -> int:
    return sum(pair.kinds[DURATION].counts.values())


def _floor(moment: datetime, bucket: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % bucket, moment.tzinfo)
