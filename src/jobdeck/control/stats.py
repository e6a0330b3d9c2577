"""The numbers the dashboard's cards and charts show, read from the rollups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jobdeck.clock import Clock
from jobdeck.control.latency import LatencyStats, latency_stats
from jobdeck.errors import ConfigError
from jobdeck.latency import RELATIVE_ERROR
from jobdeck.store.base import StatsRow, Store

# Period -> (length, bucket size): about 60-120 points on the chart whatever the period.
PERIODS: dict[str, tuple[timedelta, int]] = {
    "1h": (timedelta(hours=1), 60),
    "6h": (timedelta(hours=6), 300),
    "24h": (timedelta(hours=24), 900),
    "7d": (timedelta(days=7), 7200),
    "30d": (timedelta(days=30), 21600),
}
DEFAULT_PERIOD = "24h"


@dataclass(frozen=True)
class Stats:
    period: str
    since: datetime
    until: datetime
    bucket_seconds: int
    succeeded: int
    failed: int
    duration_ms: int
    series: list[StatsRow]
    by_task: list[StatsRow]
    latency: LatencyStats
    # How far a percentile may be from the true value (a fraction: 0.13 is 13%).
    latency_error: float = field(default=RELATIVE_ERROR)

    @property
    def total(self) -> int:
        return self.succeeded + self.failed

    @property
    def avg_duration_ms(self) -> float | None:
        return self.duration_ms / self.total if self.total else None


def stats(store: Store, clock: Clock, period: str = DEFAULT_PERIOD) -> Stats:
    """Cards, throughput series (empty buckets filled), per-task counts, and wait and duration
    percentiles, from the rollups."""
    if period not in PERIODS:
        raise ConfigError(f"unknown period {period!r}: use one of {', '.join(PERIODS)}")
    length, bucket = PERIODS[period]
    until = clock.now()
    since = _bucket_floor(until - length, bucket)
    series = _fill_buckets(store.stats_series(since, until, bucket), since, until, bucket)
    by_task = store.stats_by_task(since, until)
    return Stats(
        period=period,
        since=since,
        until=until,
        bucket_seconds=bucket,
        succeeded=sum(r.succeeded for r in by_task),
        failed=sum(r.failed for r in by_task),
        duration_ms=sum(r.duration_ms for r in by_task),
        series=series,
        by_task=by_task,
        latency=latency_stats(store, since, until, bucket),
    )


def _bucket_floor(moment: datetime, bucket: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % bucket, moment.tzinfo)


def _fill_buckets(
    rows: list[StatsRow], since: datetime, until: datetime, bucket: int
) -> list[StatsRow]:
    found = {datetime.fromisoformat(r.key).timestamp(): r for r in rows}
    filled = []
    moment = since
    while moment <= until:
        key = moment.timestamp()
        filled.append(found.get(key, StatsRow(moment.isoformat())))
        moment += timedelta(seconds=bucket)
    return filled
