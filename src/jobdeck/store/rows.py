"""Turning database rows into store records, and records into parameters, for both dialects."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from jobdeck.jsonvalues import loads
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.dialect import Row
from jobdeck.store.records import (
    AlertRow,
    AttemptRow,
    AuditFilter,
    AuditRow,
    ClaimedJob,
    JobRow,
    LoginAttempts,
    Outcome,
    RescuedJob,
    ScheduleDef,
    ScheduleRow,
    SessionRow,
    StatsRow,
    TokenRow,
    UserRow,
    WorkerInfo,
)

TimeParser = Callable[[Any], datetime | None]


def job_from_row(row: Row, parse_time: TimeParser) -> JobRow:
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
        enqueued_at=required_time(parse_time(row["enqueued_at"])),
        run_at=required_time(parse_time(row["run_at"])),
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


def attempt_from_row(row: Row, parse_time: TimeParser) -> AttemptRow:
    return AttemptRow(
        job_id=row["job_id"],
        attempt=row["attempt"],
        status=AttemptStatus(row["status"]),
        worker_id=row["worker_id"],
        started_at=required_time(parse_time(row["started_at"])),
        finished_at=parse_time(row["finished_at"]),
        duration_ms=row["duration_ms"],
        error=row["error"],
        traceback=row["traceback"],
    )


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


def required_time(value: datetime | None) -> datetime:
    """A time from a NOT NULL column."""
    if value is None:
        raise ValueError("a required timestamp is missing from the row")
    return value


def schedule_from_row(row: Row, parse_time: TimeParser) -> ScheduleRow:
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
        created_at=required_time(parse_time(row["created_at"])),
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


def alert_from_row(row: Row, parse_time: TimeParser) -> AlertRow:
    return AlertRow(
        id=row["id"],
        kind=row["kind"],
        subject=row["subject"],
        message=row["message"],
        details=_json(row["details"]) or {},
        created_at=required_time(parse_time(row["created_at"])),
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


def user_from_row(row: Row, parse_time: TimeParser) -> UserRow:
    return UserRow(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=row["role"],
        active=bool(row["active"]),
        password_hash=row["password_hash"],
        created_at=required_time(parse_time(row["created_at"])),
        last_login_at=parse_time(row["last_login_at"]),
    )


def session_from_row(row: Row, parse_time: TimeParser) -> SessionRow:
    return SessionRow(
        id_hash=row["id_hash"],
        user_id=row["user_id"],
        csrf_token=row["csrf_token"],
        created_at=required_time(parse_time(row["created_at"])),
        last_seen_at=required_time(parse_time(row["last_seen_at"])),
        expires_at=required_time(parse_time(row["expires_at"])),
        ip=row["ip"],
        user_agent=row["user_agent"],
    )


def token_from_row(row: Row, parse_time: TimeParser) -> TokenRow:
    return TokenRow(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        role=row["role"],
        created_by=row["created_by"],
        created_at=required_time(parse_time(row["created_at"])),
        last_used_at=parse_time(row["last_used_at"]),
        revoked_at=parse_time(row["revoked_at"]),
    )


def login_attempts_from_row(row: Row, parse_time: TimeParser) -> LoginAttempts:
    return LoginAttempts(
        key=row["key"],
        failures=row["failures"],
        window_started_at=required_time(parse_time(row["window_started_at"])),
        locked_until=parse_time(row["locked_until"]),
    )


def audit_from_row(row: Row, parse_time: TimeParser) -> AuditRow:
    return AuditRow(
        id=row["id"],
        timestamp=required_time(parse_time(row["timestamp"])),
        actor=row["actor"],
        role=row["role"],
        action_type=row["action_type"],
        target=row["target"],
        ip=row["ip"],
        details=_json(row["details"]) or {},
    )


def schedule_clauses(name: str | None, active_only: bool) -> list[str]:
    """Names of the ``where_schedule_*`` fragments ``list_schedules`` needs."""
    return [
        clause
        for clause, needed in (
            ("where_schedule_name", name is not None),
            ("where_schedule_active", active_only),
        )
        if needed
    ]


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


def claimed_from_row(row: Row, started_at: datetime) -> ClaimedJob:
    return ClaimedJob(
        row["id"],
        row["task"],
        row["queue"],
        row["args"],
        row["attempt"],
        row["max_attempts"],
        row["timeout"],
        started_at,
    )


def by_claim_order(rows: list[Any]) -> None:
    """Sort claimed rows into the order they run in; RETURNING does not keep the picking order."""
    rows.sort(key=lambda r: (-r["priority"], r["run_at"], r["id"]))


def rescued_from_row(row: Row) -> RescuedJob:
    return RescuedJob(
        row["id"], row["task"], row["attempt"], JobState(row["state"]), row["worker_id"]
    )


def worker_from_row(row: Row, parse_time: TimeParser) -> WorkerInfo:
    return WorkerInfo(
        row["id"],
        row["host"],
        row["pid"],
        json.loads(row["queues"]),
        row["concurrency"],
        required_time(parse_time(row["started_at"])),
        required_time(parse_time(row["last_heartbeat"])),
        row["state"],
        row["version"],
        row["clock_offset_ms"],
    )


def stats_from_row(row: Row, key: str) -> StatsRow:
    """The sums of one bucket (``key`` "bucket", epoch seconds) or one task (``key`` "task")."""
    label = row[key] if key == "task" else datetime.fromtimestamp(row[key], UTC).isoformat()
    return StatsRow(label, row["succeeded"], row["failed"], row["duration_ms"])


def worker_params(info: WorkerInfo, encode_time: Callable[[datetime], Any]) -> dict[str, Any]:
    return {
        "id": info.id,
        "host": info.host,
        "pid": info.pid,
        "queues": json.dumps(list(info.queues)),
        "concurrency": info.concurrency,
        "version": info.version,
        "started_at": encode_time(info.started_at),
        "last_heartbeat": encode_time(info.last_heartbeat),
        "state": info.state,
    }
