"""Turning database rows into store records, shared by both dialects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from jobdeck.jsonvalues import loads
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import AttemptRow, JobFilter, JobRow, Outcome

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


def filter_clauses(filters: JobFilter, before_id: int | None) -> list[str]:
    """Names of the ``where_*`` query fragments a filter needs, in a fixed order."""
    wanted = {
        "where_states": filters.states is not None,
        "where_tasks": filters.tasks is not None,
        "where_queue": filters.queue is not None,
        "where_schedule": filters.schedule is not None,
        "where_enqueued_from": filters.enqueued_from is not None,
        "where_enqueued_to": filters.enqueued_to is not None,
        "where_before_id": before_id is not None,
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
    if isinstance(value, str | bytes):
        return loads(value)
    return value


def _required(value: datetime | None) -> datetime:
    if value is None:
        raise ValueError("a required timestamp is missing from the row")
    return value
