"""The status people see for a schedule (badge, staleness, next run), from the store's row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jobdeck.schedules.spec import ScheduleSpec
from jobdeck.states import JobState
from jobdeck.store.base import ScheduleDef, ScheduleRow


@dataclass(frozen=True)
class ScheduleStatus:
    """Everything a schedule card or ``jobdeck schedules list`` shows."""

    name: str
    task: str
    title: str
    description: str
    frequency: str
    timezone: str
    status: str  # running, success, failed, pending (the guide's words)
    active: bool
    paused: bool
    stale: bool
    may_be_stuck: bool
    last_run_at: datetime | None
    next_run_at: datetime | None
    last_success_at: datetime | None
    last_job_id: int | None
    last_duration_ms: int | None
    last_summary: str | None
    last_error: str | None
    running_job_id: int | None
    expected_max_age: timedelta | None
    alert_after: timedelta | None
    alert_state: str
    catch_up: str


def spec_of(definition: ScheduleDef) -> ScheduleSpec:
    every = timedelta(seconds=definition.every_seconds) if definition.every_seconds else None
    return ScheduleSpec.build(
        cron=definition.cron,
        every=every,
        timezone=definition.timezone,
        min_every=timedelta(microseconds=1),
    )


def status_of(row: ScheduleRow, now: datetime, expected_duration: float) -> ScheduleStatus:
    """The badge and health of a schedule from the facts the store returned."""
    d = row.definition
    spec = spec_of(d)
    alert_after = _delta(d.alert_after_seconds)
    running = row.running_job_id is not None
    since_success = now - (row.last_success_at or row.created_at)
    stale = (
        alert_after is not None and row.active and not row.paused and since_success > alert_after
    )
    stuck = (
        running
        and row.running_since is not None
        and ((now - row.running_since).total_seconds() > expected_duration)
    )
    return ScheduleStatus(
        name=d.name,
        task=d.task,
        title=d.title,
        description=d.description,
        frequency=spec.describe(),
        timezone=d.timezone,
        status=_badge(row, running),
        active=row.active,
        paused=row.paused,
        stale=stale,
        may_be_stuck=stuck,
        last_run_at=row.last_started_at,
        next_run_at=None if row.paused or not row.active else spec.next_tick(now),
        last_success_at=row.last_success_at,
        last_job_id=row.last_job_id,
        last_duration_ms=row.last_duration_ms,
        last_summary=row.last_summary,
        last_error=row.last_error,
        running_job_id=row.running_job_id,
        expected_max_age=_delta(d.expected_max_age_seconds),
        alert_after=alert_after,
        alert_state=row.alert_state,
        catch_up=d.catch_up,
    )


def _badge(row: ScheduleRow, running: bool) -> str:
    if running:
        return "running"
    if row.last_state is None:
        return "pending"
    if row.last_state == JobState.SUCCEEDED:
        return "success"
    if row.last_state in (JobState.FAILED, JobState.RETRYABLE):
        return "failed"
    return "pending"


def _delta(seconds: float | None) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds is not None else None
