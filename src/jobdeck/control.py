"""Read and admin operations over the store, shared by the CLI, the dashboard and the REST API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from jobdeck.clock import Clock
from jobdeck.errors import ConfigError, InvalidTransition, JobDeckError, JobNotFound
from jobdeck.states import STATUS_FILTERS, JobState
from jobdeck.store.base import AttemptRow, JobFilter, JobRow, StatsRow, Store, WorkerInfo

PAGE_SIZE = 50

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
class JobQuery:
    """The task list's filters, as people type them."""

    task_text: str | None = None
    status: str | None = None  # success, failed, running, pending, cancelled, or an engine state
    date_from: datetime | None = None
    date_to: datetime | None = None
    queue: str | None = None
    schedule: str | None = None


@dataclass(frozen=True)
class JobPage:
    rows: list[JobRow]
    next_before_id: int | None  # pass as before_id for the next (older) page
    prev_after_id: int | None = None  # pass as after_id for the previous (newer) page


@dataclass(frozen=True)
class JobDetail:
    job: JobRow
    attempts: list[AttemptRow]


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

    @property
    def total(self) -> int:
        return self.succeeded + self.failed

    @property
    def avg_duration_ms(self) -> float | None:
        return self.duration_ms / self.total if self.total else None


def states_for_status(status: str | None) -> frozenset[JobState] | None:
    if not status or status.lower() == "all":
        return None
    key = status.lower()
    if key in STATUS_FILTERS:
        return STATUS_FILTERS[key]
    try:
        return frozenset({JobState(key)})
    except ValueError:
        choices = ", ".join(["all", *STATUS_FILTERS, *(s.value for s in JobState)])
        raise ConfigError(f"unknown status {status!r}: use one of {choices}") from None


def resolve_task_names(store: Store, text: str | None) -> list[str] | None:
    """Free text -> the task names containing it (case-insensitive).

    Matching against the small set of distinct names, then filtering by exact names, keeps the
    list query on an index instead of a LIKE scan over every job.
    """
    if not text or not text.strip():
        return None
    needle = text.strip().lower()
    return [name for name in store.task_names() if needle in name.lower()]


def to_filter(store: Store, query: JobQuery) -> JobFilter:
    return JobFilter(
        states=states_for_status(query.status),
        tasks=resolve_task_names(store, query.task_text),
        queue=query.queue,
        schedule=query.schedule,
        enqueued_from=query.date_from,
        enqueued_to=query.date_to,
    )


def list_jobs(
    store: Store,
    query: JobQuery,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
    after_id: int | None = None,
) -> JobPage:
    """A page of jobs, newest first, with cursors to the older and the newer page.

    Keyset pagination: one more row than the page is read to know whether another page
    exists, so no page costs a count over the whole table.
    """
    rows = store.list_jobs(to_filter(store, query), before_id, limit + 1, after_id=after_id)
    if after_id is not None:
        newer_exists = len(rows) > limit
        rows = rows[-limit:]
        older = rows[-1].id if rows else None
        return JobPage(rows, older, rows[0].id if rows and newer_exists else None)
    older_exists = len(rows) > limit
    rows = rows[:limit]
    newer = rows[0].id if rows and before_id is not None else None
    return JobPage(rows, rows[-1].id if older_exists and rows else None, newer)


def count_jobs(store: Store, query: JobQuery) -> int:
    return store.count_jobs(to_filter(store, query))


def job_detail(store: Store, job_id: int) -> JobDetail:
    job = store.get_job(job_id)
    if job is None:
        raise JobNotFound(f"job {job_id} does not exist")
    return JobDetail(job, store.get_attempts(job_id))


def retry_job(store: Store, clock: Clock, job_id: int) -> JobRow:
    """Run a failed, cancelled or retrying job again now (one more attempt if it had none left)."""
    job = job_detail(store, job_id).job
    retried = store.retry_job(job_id, clock.now())
    if retried is None:
        raise InvalidTransition(
            f"job {job_id} is {job.state}: only failed, retrying or cancelled jobs can be retried"
        )
    return retried


def cancel_job(store: Store, clock: Clock, job_id: int) -> JobRow:
    """Cancel a job that has not started; running jobs are not interrupted."""
    job = job_detail(store, job_id).job
    cancelled = store.cancel_job(job_id, clock.now())
    if cancelled is None:
        raise InvalidTransition(
            f"job {job_id} is {job.state}: only pending jobs (scheduled, available, retrying) "
            "can be cancelled"
        )
    return cancelled


def stats(store: Store, clock: Clock, period: str = DEFAULT_PERIOD) -> Stats:
    """Cards, throughput series (empty buckets filled) and per-task counts, from the rollups."""
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


HealthLevel = Literal["healthy", "degraded", "unhealthy"]
HEALTHY: HealthLevel = "healthy"
DEGRADED: HealthLevel = "degraded"
UNHEALTHY: HealthLevel = "unhealthy"
# A worker that went silent without stopping shows as lost for this long: long enough for
# an operator to notice it, and for its jobs' leases to run out and be rescued.
LOST_VISIBLE = timedelta(hours=1)


@dataclass(frozen=True)
class Health:
    """The worker pill: healthy when a heartbeat is younger than three intervals and at least
    ``expected_workers`` are heartbeating; degraded when some but fewer are; else unhealthy."""

    level: HealthLevel
    reason: str  # why not healthy, or how many workers beat
    last_heartbeat: datetime | None
    workers: list[WorkerInfo]  # heartbeating now
    lost: list[WorkerInfo] = field(default_factory=list)  # silent, never stopped, recent

    @property
    def healthy(self) -> bool:
        return self.level == HEALTHY

    @classmethod
    def down(cls, reason: str) -> Health:
        return cls(UNHEALTHY, reason, None, [])


def worker_health(
    store: Store, clock: Clock, heartbeat_interval: float, expected_workers: int = 0
) -> Health:
    now = clock.now()
    try:
        workers = store.list_workers(since=now - timedelta(days=1))
    except JobDeckError as exc:
        return Health.down(f"database unreachable: {exc}")
    limit = timedelta(seconds=3 * heartbeat_interval)
    fresh = [w for w in workers if w.state != "stopped" and now - w.last_heartbeat <= limit]
    lost = [
        w
        for w in workers
        if w.state != "stopped" and limit < now - w.last_heartbeat <= LOST_VISIBLE
    ]
    lost.sort(key=lambda w: w.last_heartbeat, reverse=True)
    if fresh:
        newest = max(w.last_heartbeat for w in fresh)
        if len(fresh) < expected_workers:
            why = f"{len(fresh)} of {expected_workers} workers heartbeating"
            return Health(DEGRADED, why, newest, fresh, lost)
        return Health(HEALTHY, f"{len(fresh)} worker(s) heartbeating", newest, fresh, lost)
    latest = max((w.last_heartbeat for w in workers), default=None)
    if latest is None:
        return Health(UNHEALTHY, "no worker has sent a heartbeat", None, [], lost)
    age = int((now - latest).total_seconds())
    stopped = all(w.state == "stopped" for w in workers if w.last_heartbeat == latest)
    why = "the last worker stopped" if stopped else "no worker heartbeat"
    return Health(UNHEALTHY, f"{why} {age} s ago", latest, [], lost)
