"""Prometheus metrics for the dashboard's ``/metrics``, read from the store at each scrape.

A custom collector, not counters kept in memory: the dashboard runs no jobs, so the numbers
live in the database (the per-minute rollups, the indexes of unfinished jobs, the workers'
heartbeats, the schedules) and are read when Prometheus asks, and nothing runs between
scrapes. Needs the ``metrics`` extra (prometheus-client); the worker never imports this.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import CollectorRegistry

from jobdeck import control
from jobdeck.control import schedules as schedule_control
from jobdeck.control.latency import Histogram, histograms_by_task
from jobdeck.errors import JobDeckError
from jobdeck.fleet import queue_backlogs
from jobdeck.latency import BOUNDS_MS, DURATION, WAIT

if TYPE_CHECKING:
    from jobdeck.deck import Deck

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Rollup rows are never deleted (older minutes fold into hours), so a sum from the first
# possible minute is a true running total: a counter.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
# The histograms' "le" bounds: 1, 2.5 and 5 of each decade from 1 ms (every third or so of the
# rollups' ten per decade, so each is exact), enough for histogram_quantile without a series
# per rollup bucket.
EXPOSED_BOUNDS = tuple(
    (index, ms / 1000)
    for index, ms in enumerate(BOUNDS_MS)
    if round(ms / 10 ** math.floor(math.log10(ms)), 6) in (1.0, 2.5, 5.0)
)


class StoreErrors:
    """Failed store reads in this process, by scrape section: a counter that survives scrapes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_section: dict[str, int] = {}

    def add(self, section: str) -> None:
        with self._lock:
            self.by_section[section] = self.by_section.get(section, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.by_section)


# A fingerprint is a label: past this many groups, only the busiest keep a series, so a storm
# of distinct errors cannot blow up Prometheus's series count.
ERROR_GROUPS_SERVED = 100

# Every family /metrics serves, by name: what it says and its labels (none: one sample).
FAMILIES: dict[str, tuple[str, list[str] | None]] = {
    "jobdeck_jobs": (
        "Unfinished jobs by queue and state (finished ones: jobdeck_job_attempts_total)",
        ["queue", "state"],
    ),
    "jobdeck_queue_oldest_wait_seconds": (
        "How long the oldest available job of each queue has been due (0 when none)",
        ["queue"],
    ),
    "jobdeck_job_attempts": (
        "Finished attempts by task and outcome, from the rollups (failed includes retried "
        "and lost attempts)",
        ["task", "outcome"],
    ),
    "jobdeck_job_duration_seconds": (
        "Run time of finished attempts by task, from the rollups (lost attempts, whose run "
        "time is unknown, are not in it)",
        ["task"],
    ),
    "jobdeck_job_wait_seconds": (
        "Time from when an attempt was due (enqueued, run_at or its retry time) to its start, "
        "by task, from the rollups",
        ["task"],
    ),
    "jobdeck_workers": (
        "Workers heartbeating (alive) and silent without having stopped in the last hour (lost)",
        ["status"],
    ),
    "jobdeck_workers_expected": ("The expected_workers setting (0: any number is healthy)", None),
    "jobdeck_worker_slots": ("Concurrency summed over the alive workers", None),
    "jobdeck_worker_last_heartbeat_timestamp_seconds": (
        "When the newest worker heartbeat was written",
        None,
    ),
    "jobdeck_schedule_stale": (
        "1 when a schedule's last success is older than its alert_after",
        ["schedule"],
    ),
    "jobdeck_schedule_last_success_timestamp_seconds": (
        "When each schedule last succeeded (absent: never)",
        ["schedule"],
    ),
    "jobdeck_schedule_paused": ("1 while a schedule is paused", ["schedule"]),
    "jobdeck_error_group_failures": (
        "Failed attempts by error group since it was first seen, from the rollups (the "
        f"{ERROR_GROUPS_SERVED} groups with the most; task: where it was first seen)",
        ["fingerprint", "exception", "task"],
    ),
    "jobdeck_error_groups": (
        "Error groups with a failure in the last hour, muted or not; new: first seen in it",
        ["status"],
    ),
    "jobdeck_store_up": ("1 when every store read of this scrape worked, else 0", None),
    "jobdeck_store_errors": (
        "Store reads that failed in this dashboard process, by scrape section",
        ["section"],
    ),
    "jobdeck_scrape_duration_seconds": ("How long reading these metrics from the store took", None),
}
Family = TypeVar("Family", GaugeMetricFamily, CounterMetricFamily, HistogramMetricFamily)


def labelled(kind: type[Family], name: str) -> Family:
    """An empty family of ``FAMILIES``, for samples by label."""
    documentation, labels = FAMILIES[name]
    return kind(name, documentation, labels=labels)


def gauge(name: str, value: float) -> GaugeMetricFamily:
    """A one-sample gauge of ``FAMILIES``."""
    return GaugeMetricFamily(name, FAMILIES[name][0], value)


class JobDeckCollector:
    """Every jobdeck metric, read on ``collect()``. Register it in your own registry too:
    ``REGISTRY.register(JobDeckCollector(deck))``."""

    SECTIONS = ("jobs", "attempts", "workers", "schedules", "errors")

    def __init__(self, deck: Deck, errors: StoreErrors | None = None) -> None:
        self.deck = deck
        self.errors = errors or StoreErrors()

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        now = self.deck.clock.now()
        readers: dict[str, Callable[[datetime], Iterable[Metric]]] = {
            "jobs": self._jobs,
            "attempts": self._attempts,
            "workers": self._workers,
            "schedules": self._schedules,
            "errors": self._error_groups,
        }
        up = 1
        for section, read in readers.items():
            try:
                # Listed first: a section that fails halfway yields nothing, never half of it.
                families = list(read(now))
            except JobDeckError:
                self.errors.add(section)
                up = 0
                continue
            yield from families
        yield gauge("jobdeck_store_up", up)
        errors = labelled(CounterMetricFamily, "jobdeck_store_errors")
        counts = self.errors.snapshot()
        for section in self.SECTIONS:
            errors.add_metric([section], counts.get(section, 0))
        yield errors
        yield gauge("jobdeck_scrape_duration_seconds", time.perf_counter() - started)

    def _jobs(self, now: datetime) -> Iterator[Metric]:
        jobs = labelled(GaugeMetricFamily, "jobdeck_jobs")
        waited = labelled(GaugeMetricFamily, "jobdeck_queue_oldest_wait_seconds")
        for backlog in queue_backlogs(self.deck, now):
            for state, count in backlog.counts.items():
                jobs.add_metric([backlog.queue, str(state)], count)
            if backlog.oldest_due_at is not None or backlog.queue != "(other)":
                waited.add_metric([backlog.queue], backlog.waited(now).total_seconds())
        yield jobs
        yield waited

    def _attempts(self, now: datetime) -> Iterator[Metric]:
        attempts = labelled(CounterMetricFamily, "jobdeck_job_attempts")
        # The current minute's rollup row is still growing: read up to a day ahead, so a
        # worker whose clock runs ahead of this one is counted too.
        ahead = now + timedelta(days=1)
        for row in self.deck.store.stats_by_task(_BEGINNING, ahead):
            attempts.add_metric([row.key, "succeeded"], row.succeeded)
            attempts.add_metric([row.key, "failed"], row.failed)
        yield attempts
        durations = labelled(HistogramMetricFamily, "jobdeck_job_duration_seconds")
        waits = labelled(HistogramMetricFamily, "jobdeck_job_wait_seconds")
        for task, histograms in sorted(
            histograms_by_task(self.deck.store, _BEGINNING, ahead).items()
        ):
            for family, kind in ((durations, DURATION), (waits, WAIT)):
                histogram = histograms.kinds[kind]
                if histogram.counts:
                    family.add_metric([task], *exposition(histogram))
        yield durations
        yield waits

    def _workers(self, now: datetime) -> Iterator[Metric]:
        settings = self.deck.settings
        health = control.worker_health(
            self.deck.store, self.deck.clock, settings.heartbeat_interval, settings.expected_workers
        )
        if health.reason.startswith("database unreachable"):
            raise JobDeckError(health.reason)  # worker_health reports it; count it as one
        workers = labelled(GaugeMetricFamily, "jobdeck_workers")
        workers.add_metric(["alive"], len(health.workers))
        workers.add_metric(["lost"], len(health.lost))
        yield workers
        yield gauge("jobdeck_workers_expected", settings.expected_workers)
        yield gauge("jobdeck_worker_slots", sum(w.concurrency for w in health.workers))
        if health.last_heartbeat is not None:
            yield gauge(
                "jobdeck_worker_last_heartbeat_timestamp_seconds", health.last_heartbeat.timestamp()
            )

    def _schedules(self, now: datetime) -> Iterator[Metric]:
        stale = labelled(GaugeMetricFamily, "jobdeck_schedule_stale")
        success = labelled(GaugeMetricFamily, "jobdeck_schedule_last_success_timestamp_seconds")
        paused = labelled(GaugeMetricFamily, "jobdeck_schedule_paused")
        for status in schedule_control.schedule_statuses(self.deck):
            if not status.active:
                continue
            stale.add_metric([status.name], int(status.stale))
            paused.add_metric([status.name], int(status.paused))
            if status.last_success_at is not None:
                success.add_metric([status.name], status.last_success_at.timestamp())
        yield stale
        yield success
        yield paused

    def _error_groups(self, now: datetime) -> Iterator[Metric]:
        store = self.deck.store
        ahead = now + timedelta(days=1)  # the current minute's row, and clocks running ahead
        failures = labelled(CounterMetricFamily, "jobdeck_error_group_failures")
        for group in store.list_error_groups(_BEGINNING, ahead, True, ERROR_GROUPS_SERVED):
            failures.add_metric([group.fingerprint, group.exception, group.task], group.failures)
        yield failures
        hour_ago = now - timedelta(hours=1)
        recent = store.list_error_groups(hour_ago, ahead, True, 10_000)
        counts = {
            "active": sum(1 for g in recent if not g.muted),
            "muted": sum(1 for g in recent if g.muted),
            "new": sum(1 for g in recent if g.first_seen >= hour_ago and not g.muted),
        }
        groups = labelled(GaugeMetricFamily, "jobdeck_error_groups")
        for status, count in counts.items():
            groups.add_metric([status], count)
        yield groups


def exposition(histogram: Histogram) -> tuple[list[tuple[str, float]], float]:
    """Cumulative (le, count) pairs ending with +Inf, and the sum in seconds."""
    cumulative, buckets = 0, []
    indexes = sorted(histogram.counts)
    position = 0
    for index, seconds in EXPOSED_BOUNDS:
        while position < len(indexes) and indexes[position] <= index:
            cumulative += histogram.counts[indexes[position]]
            position += 1
        buckets.append((f"{seconds:g}", float(cumulative)))
    buckets.append(("+Inf", float(sum(histogram.counts.values()))))
    return buckets, sum(histogram.sums.values()) / 1000


def render(deck: Deck, errors: StoreErrors | None = None) -> bytes:
    """The text format of every jobdeck metric for ``deck``, read now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobDeckCollector(deck, errors))
    return generate_latest(registry)
