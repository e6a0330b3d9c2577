"""The status people see for a schedule (badge, staleness, next run), from the store's row."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobdeck.schedules.spec import ScheduleSpec
from jobdeck.states import JobState
from jobdeck.store.base import ScheduleDef, ScheduleRow
from jobdeck.store.schedules import ACTIVE_STATES, COOLING_STATES

# What Run Now would do now: run, answer with the manual run still queued or running, or
# answer with the one that finished less than the cooldown ago (a second run needs confirming).
RUN_NOW_READY, RUN_NOW_ACTIVE, RUN_NOW_COOLDOWN = "ready", "active", "cooldown"


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
    retry_in_seconds: int | None  # the last run failed and tries again in this many seconds
    run_now: str  # RUN_NOW_READY, RUN_NOW_ACTIVE or RUN_NOW_COOLDOWN
    manual_job_id: int | None  # the latest manual run
    manual_finished_at: datetime | None
    run_now_cooldown: timedelta
    run_now_cooldown_left: float | None  # seconds, while RUN_NOW_COOLDOWN

    @property
    def badge_text(self) -> str:
        """The badge's words: "Failed · retrying in 4 s" while the last run has tries left."""
        if self.status == "failed" and self.retry_in_seconds is not None:
            when = f"in {self.retry_in_seconds} s" if self.retry_in_seconds > 0 else "now"
            return f"Failed · retrying {when}"
        return self.status.capitalize()


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
    cooldown = timedelta(seconds=d.run_now_cooldown_seconds)
    run_now, cooldown_left = _run_now_state(row, cooldown, now)
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
        retry_in_seconds=_seconds_until(row.last_retry_at, now),
        run_now=run_now,
        manual_job_id=row.manual_job_id,
        manual_finished_at=row.manual_finished_at,
        run_now_cooldown=cooldown,
        run_now_cooldown_left=cooldown_left,
    )


def _seconds_until(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return max(0, math.ceil((moment - now).total_seconds()))


def _run_now_state(
    row: ScheduleRow, cooldown: timedelta, now: datetime
) -> tuple[str, float | None]:
    """The rule the store's enqueue_manual_run decides by, read for the card's button: what
    Run Now would do, and the seconds of cooldown left."""
    if row.manual_state in ACTIVE_STATES:
        return RUN_NOW_ACTIVE, None
    if row.manual_state in COOLING_STATES and row.manual_finished_at is not None:
        left = (cooldown - (now - row.manual_finished_at)).total_seconds()
        if left > 0:
            return RUN_NOW_COOLDOWN, left
    return RUN_NOW_READY, None


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
