"""Periodic schedules: how they are declared, and the status people see for each."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobdeck.durations import parse_duration
from jobdeck.errors import ConfigError, SerializationError
from jobdeck.jsonvalues import dumps_checked
from jobdeck.limits import PayloadLimits, check_name, encode_args
from jobdeck.schedule_spec import ScheduleSpec
from jobdeck.states import JobState
from jobdeck.store.base import ScheduleDef, ScheduleRow
from jobdeck.tasks import Task

CATCH_UP_POLICIES = ("latest", "skip")


@dataclass(frozen=True)
class Schedule:
    """A schedule declared with ``@deck.periodic``."""

    name: str
    task: Task[..., Any]
    spec: ScheduleSpec
    title: str
    description: str = ""
    expected_max_age: timedelta | None = None
    alert_after: timedelta | None = None
    catch_up: str = "latest"
    args: dict[str, Any] = field(default_factory=dict)

    def definition(self) -> ScheduleDef:
        return ScheduleDef(
            name=self.name,
            task=self.task.name,
            title=self.title,
            cron=self.spec.cron,
            every_seconds=self.spec.every.total_seconds() if self.spec.every else None,
            timezone=self.spec.timezone,
            description=self.description,
            expected_max_age_seconds=_seconds(self.expected_max_age),
            alert_after_seconds=_seconds(self.alert_after),
            catch_up=self.catch_up,
            args_json=dumps_checked(self.args, "args"),
            queue=self.task.queue,
        )


def build_schedule(
    task: Task[..., Any],
    *,
    name: str,
    cron: str | None,
    every: str | float | timedelta | None,
    timezone: str,
    title: str | None,
    description: str,
    expected_max_age: str | float | timedelta | None,
    alert_after: str | float | timedelta | None,
    catch_up: str,
    args: dict[str, Any] | None,
    min_every: timedelta,
) -> Schedule:
    """Validate a declaration; every mistake is a ConfigError naming the schedule."""
    try:
        spec = ScheduleSpec.build(cron=cron, every=every, timezone=timezone, min_every=min_every)
        max_age = parse_duration(expected_max_age) if expected_max_age is not None else None
        alert = parse_duration(alert_after) if alert_after is not None else None
    except ConfigError as exc:
        raise ConfigError(f"schedule {name!r}: {exc}") from None
    if max_age is not None and alert is not None and alert < max_age:
        raise ConfigError(
            f"schedule {name!r}: alert_after ({alert}) is below expected_max_age ({max_age}); "
            "the alert threshold must be at least the expected age"
        )
    if catch_up not in CATCH_UP_POLICIES:
        raise ConfigError(f"schedule {name!r}: catch_up must be one of {CATCH_UP_POLICIES}")
    call_args = dict(args or {})
    task.check_args(call_args)
    # Every tick enqueues these: a payload past the limits fails here once, not at each tick.
    limits = PayloadLimits.of(task.deck.settings)
    try:
        check_name(name, "schedule", limits)
        encode_args(call_args, limits)
    except SerializationError as exc:
        raise ConfigError(f"schedule {name[:80]!r}: {exc}") from None
    return Schedule(
        name=name,
        task=task,
        spec=spec,
        title=title or _title_from(name),
        description=description,
        expected_max_age=max_age,
        alert_after=alert,
        catch_up=catch_up,
        args=call_args,
    )


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


def schedule_args(definition: ScheduleDef) -> dict[str, Any]:
    args = json.loads(definition.args_json)
    return args if isinstance(args, dict) else {}


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


def _title_from(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").split(".")[-1].split()
    return " ".join(words).capitalize()


def _seconds(delta: timedelta | None) -> float | None:
    return delta.total_seconds() if delta is not None else None


def _delta(seconds: float | None) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds is not None else None
