"""Turning database rows into store records, shared by both dialects."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from jobdeck.jsonvalues import loads
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import (
    AlertRow,
    AttemptRow,
    AuditFilter,
    AuditRow,
    JobFilter,
    JobRow,
    LoginAttempts,
    Outcome,
    ScheduleDef,
    ScheduleRow,
    SessionRow,
    TokenRow,
    UserRow,
)

TimeParser = Callable[[Any], datetime | None]


def job_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> JobRow:
    return JobRow(
        id=row["id"],
        task=row["task"],
        queue=row["queue"],
        args=_json(row["args"]) or {},
        labels=_json(row["labels"]) or {},
        priority=row["priority"],
        state=JobState(row["state"]),
        attempt=row["attempt"],
        max_attempts=row["max_attempts"],
        timeout=row["timeout"],
        enqueued_at=_required(parse_time(row["enqueued_at"])),
        run_at=_required(parse_time(row["run_at"])),
        started_at=parse_time(row["started_at"]),
        finished_at=parse_time(row["finished_at"]),
        duration_ms=row["duration_ms"],
        worker_id=row["worker_id"],
        lease_expires_at=parse_time(row["lease_expires_at"]),
        unique_key=row["unique_key"],
        schedule=row["schedule"],
        tick_at=parse_time(row["tick_at"]),
        trigger=row["trigger"],
        triggered_by=row["triggered_by"],
        result=_json(row["result"]),
        summary=row["summary"],
        error=row["error"],
    )


def attempt_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> AttemptRow:
    return AttemptRow(
        job_id=row["job_id"],
        attempt=row["attempt"],
        status=AttemptStatus(row["status"]),
        worker_id=row["worker_id"],
        started_at=_required(parse_time(row["started_at"])),
        finished_at=parse_time(row["finished_at"]),
        duration_ms=row["duration_ms"],
        error=row["error"],
        traceback=row["traceback"],
    )


def filter_clauses(
    filters: JobFilter,
    before_id: int | None,
    after_id: int | None = None,
    single_values: bool = False,
) -> list[str]:
    """Names of the ``where_*`` query fragments a filter needs, in a fixed order.

    With ``single_values``, a one-element state or task list becomes an equality
    (``where_state`` / ``where_task``) so the database walks the matching index in id order.
    """
    one_state = single_values and filters.states is not None and len(filters.states) == 1
    one_task = single_values and filters.tasks is not None and len(filters.tasks) == 1
    wanted = {
        "where_state": one_state,
        "where_states": filters.states is not None and not one_state,
        "where_task": one_task,
        "where_tasks": filters.tasks is not None and not one_task,
        "where_queue": filters.queue is not None,
        "where_schedule": filters.schedule is not None,
        "where_enqueued_from": filters.enqueued_from is not None,
        "where_enqueued_to": filters.enqueued_to is not None,
        "where_before_id": before_id is not None,
        "where_min_id": filters.min_id is not None,
        "where_max_id": filters.max_id is not None,
        "where_after_id": after_id is not None,
    }
    return [name for name, needed in wanted.items() if needed]


def stats_increments(
    outcomes: Sequence[Outcome], applied: set[int], minute_key: Callable[[datetime], Any]
) -> list[dict[str, Any]]:
    """Per (minute, task) sums of the applied outcomes: one rollup write per group, not per job."""
    sums: dict[tuple[Any, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for outcome in outcomes:
        if outcome.job_id not in applied:
            continue
        counts = sums[(minute_key(outcome.finished_at), outcome.task)]
        counts[0 if outcome.status == AttemptStatus.SUCCEEDED else 1] += 1
        counts[2] += outcome.duration_ms
    return [
        {"minute": minute, "task": task, "succeeded": s, "failed": f, "duration_ms": d}
        for (minute, task), (s, f, d) in sums.items()
    ]


def _json(value: Any) -> Any:
    # loads() cuts what is nested past the depth ceiling (only rows from before the payload
    # limits are): decoding here, once, keeps every page, the API and the CLI working on them.
    if isinstance(value, str | bytes):
        return loads(value)
    return value


def _required(value: datetime | None) -> datetime:
    if value is None:
        raise ValueError("a required timestamp is missing from the row")
    return value


def schedule_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> ScheduleRow:
    definition = ScheduleDef(
        name=row["name"],
        task=row["task"],
        title=row["title"],
        cron=row["cron"],
        every_seconds=row["every_seconds"],
        timezone=row["timezone"],
        description=row["description"],
        expected_max_age_seconds=row["expected_max_age_seconds"],
        alert_after_seconds=row["alert_after_seconds"],
        catch_up=row["catch_up"],
        args_json=row["args"] if isinstance(row["args"], str) else json.dumps(row["args"]),
        queue=row["queue"],
    )
    return ScheduleRow(
        definition=definition,
        active=bool(row["active"]),
        paused=bool(row["paused"]),
        last_tick_at=parse_time(row["last_tick_at"]),
        alert_state=row["alert_state"],
        created_at=_required(parse_time(row["created_at"])),
        last_job_id=row["last_job_id"],
        last_state=JobState(row["last_state"]) if row["last_state"] else None,
        last_started_at=parse_time(row["last_started_at"]),
        last_finished_at=parse_time(row["last_finished_at"]),
        last_duration_ms=row["last_duration_ms"],
        last_summary=row["last_summary"],
        last_error=row["last_error"],
        last_trigger=row["last_trigger"],
        last_success_at=parse_time(row["last_success_at"]),
        running_job_id=row["running_job_id"],
        running_since=parse_time(row["running_since"]),
    )


def alert_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> AlertRow:
    return AlertRow(
        id=row["id"],
        kind=row["kind"],
        subject=row["subject"],
        message=row["message"],
        details=_json(row["details"]) or {},
        created_at=_required(parse_time(row["created_at"])),
        delivered_at=parse_time(row["delivered_at"]),
        delivery_error=row["delivery_error"],
    )


def schedule_params(definition: ScheduleDef) -> dict[str, Any]:
    return {
        "name": definition.name,
        "task": definition.task,
        "cron": definition.cron,
        "every_seconds": definition.every_seconds,
        "timezone": definition.timezone,
        "title": definition.title,
        "description": definition.description,
        "expected_max_age_seconds": definition.expected_max_age_seconds,
        "alert_after_seconds": definition.alert_after_seconds,
        "catch_up": definition.catch_up,
        "args": definition.args_json,
        "queue": definition.queue,
    }


def user_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> UserRow:
    return UserRow(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=row["role"],
        active=bool(row["active"]),
        password_hash=row["password_hash"],
        created_at=_required(parse_time(row["created_at"])),
        last_login_at=parse_time(row["last_login_at"]),
    )


def session_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> SessionRow:
    return SessionRow(
        id_hash=row["id_hash"],
        user_id=row["user_id"],
        csrf_token=row["csrf_token"],
        created_at=_required(parse_time(row["created_at"])),
        last_seen_at=_required(parse_time(row["last_seen_at"])),
        expires_at=_required(parse_time(row["expires_at"])),
        ip=row["ip"],
        user_agent=row["user_agent"],
    )


def token_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> TokenRow:
    return TokenRow(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        role=row["role"],
        created_by=row["created_by"],
        created_at=_required(parse_time(row["created_at"])),
        last_used_at=parse_time(row["last_used_at"]),
        revoked_at=parse_time(row["revoked_at"]),
    )


def login_attempts_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> LoginAttempts:
    return LoginAttempts(
        key=row["key"],
        failures=row["failures"],
        window_started_at=_required(parse_time(row["window_started_at"])),
        locked_until=parse_time(row["locked_until"]),
    )


def audit_from_row(row: Mapping[str, Any], parse_time: TimeParser) -> AuditRow:
    return AuditRow(
        id=row["id"],
        timestamp=_required(parse_time(row["timestamp"])),
        actor=row["actor"],
        role=row["role"],
        action_type=row["action_type"],
        target=row["target"],
        ip=row["ip"],
        details=_json(row["details"]) or {},
    )


def audit_clauses(filters: AuditFilter) -> list[str]:
    """Names of the ``audit_where_*`` fragments a filter needs."""
    wanted = {
        "audit_where_actor": filters.actor is not None,
        "audit_where_action": filters.action_type is not None,
        "audit_where_from": filters.date_from is not None,
        "audit_where_to": filters.date_to is not None,
        "audit_where_operator_only": not filters.executions,
        "audit_where_executions_only": not filters.operator_actions,
        "audit_where_before": filters.before is not None,
    }
    return [name for name, needed in wanted.items() if needed]
