"""Turning database rows into store records, and records into parameters, for both dialects.

A record is read off a row whose columns carry its fields' names, each converted by the type
the field declares (see ``_conversion``): the dialect only says how it stores times. So a new
field is a new column and nothing else, and SQLite and PostgreSQL cannot map one differently.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin, get_type_hints

from jobdeck.jsonvalues import loads
from jobdeck.latency import DURATION, WAIT, bucket_of
from jobdeck.states import AttemptStatus
from jobdeck.store.dialect import Row
from jobdeck.store.records import (
    AuditFilter,
    ClaimedJob,
    LatencyRow,
    Outcome,
    RescuedJob,
    ScheduleDef,
    ScheduleRow,
    StatsRow,
    WorkerInfo,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

TimeParser = Callable[[Any], datetime | None]
R = TypeVar("R", bound="DataclassInstance")
# A column's value and the dialect's time parser to the field's value.
Conversion = Callable[[Any, TimeParser], Any]


# -- rows into records --------------------------------------------------------------------------


def from_row(kind: type[R], row: Row, parse_time: TimeParser, **given: Any) -> R:
    """A record of type ``kind`` from the row's columns named as its fields (those ``given``
    are not read), ``parse_time`` being the dialect's.

    Example: ``from_row(UserRow, rows[0], from_db)``.
    """
    values = {
        name: convert(row[name], parse_time)
        for name, convert in _conversions(kind)
        if name not in given
    }
    return kind(**values, **given)


@cache
def _conversions(kind: type[DataclassInstance]) -> tuple[tuple[str, Conversion], ...]:
    hints = get_type_hints(kind)
    return tuple((f.name, _conversion(hints[f.name])) for f in fields(kind))


def _conversion(hint: Any) -> Conversion:
    """How a column becomes a field of type ``hint``: times by the dialect's parser (a NOT NULL
    one must be there), JSON text decoded (an object column never None), flags and enums from
    their stored values; anything else as the driver read it."""
    if hint is datetime:
        return lambda value, parse_time: required_time(parse_time(value))
    if hint == datetime | None:
        return lambda value, parse_time: parse_time(value)
    if hint is Any:
        return lambda value, _: _json(value)
    if get_origin(hint) is dict:
        return lambda value, _: _json(value) or {}
    if hint is bool:
        return lambda value, _: bool(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return lambda value, _: hint(value)
    enums = [a for a in get_args(hint) if isinstance(a, type) and issubclass(a, Enum)]
    if enums:  # an optional enum: no value is None
        return lambda value, _: enums[0](value) if value else None
    return lambda value, _: value


def _json(value: Any) -> Any:
    # loads() cuts what is nested past the depth ceiling (only rows from before the payload
    # limits are): decoding here, once, keeps every page, the API and the CLI working on them.
    if isinstance(value, str | bytes):
        return loads(value)
    return value


def _no_times(value: Any) -> datetime | None:
    raise TypeError("this record takes no time from its row")


def schedule_from_row(row: Row, parse_time: TimeParser) -> ScheduleRow:
    args = row["args"]  # JSON text on SQLite; on PostgreSQL too, unless read as json
    definition = from_row(
        ScheduleDef, row, parse_time, args_json=args if isinstance(args, str) else json.dumps(args)
    )
    return from_row(ScheduleRow, row, parse_time, definition=definition)


def worker_from_row(row: Row, parse_time: TimeParser) -> WorkerInfo:
    return from_row(WorkerInfo, row, parse_time, queues=json.loads(row["queues"]))


def rescued_from_row(row: Row) -> RescuedJob:
    return from_row(RescuedJob, row, _no_times)


def claimed_from_row(row: Row, started_at: datetime, due_at: datetime | None) -> ClaimedJob:
    """A claimed job; ``started_at`` is the store's time at the claim, as the dialect has it,
    and ``due_at`` the job's run_at before the claim.

    Built field by field, not by `from_row`: this runs once per job on the claim's hot path,
    where the generic mapping's per-field conversions cost a third more."""
    return ClaimedJob(
        row["id"],
        row["task"],
        row["queue"],
        row["args"],
        row["attempt"],
        row["max_attempts"],
        row["timeout"],
        started_at,
        row["labels"],
        None if due_at is None else max(0, round((started_at - due_at).total_seconds() * 1000)),
    )


def stats_from_row(row: Row, key: str) -> StatsRow:
    """The sums of one bucket (``key`` "bucket", epoch seconds) or one task (``key`` "task")."""
    label = row[key] if key == "task" else datetime.fromtimestamp(row[key], UTC).isoformat()
    return StatsRow(label, row["succeeded"], row["failed"], row["duration_ms"])


def by_claim_order(rows: list[Any]) -> None:
    """Sort claimed rows into the order they run in; RETURNING does not keep the picking order."""
    rows.sort(key=lambda r: (-r["priority"], r["run_at"], r["id"]))


def required_time(value: datetime | None) -> datetime:
    """A time from a NOT NULL column."""
    if value is None:
        raise ValueError("a required timestamp is missing from the row")
    return value


# -- records into parameters --------------------------------------------------------------------


def schedule_params(definition: ScheduleDef) -> dict[str, Any]:
    params = {f.name: getattr(definition, f.name) for f in fields(definition)}
    params["args"] = params.pop("args_json")
    return params


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


# Histogram rollups are written per 15 minutes (see migration 0012).
LATENCY_SLOT_SECONDS = 900
# compact_stats folds older histogram rows coarser, each level a multiple of the one before:
# (age past compact_stats' ``before``, the slot length rows that old fold into).
LATENCY_FOLDS = ((timedelta(0), 7_200), (timedelta(days=7), 21_600), (timedelta(days=31), 86_400))


def latency_increments(
    outcomes: Sequence[Outcome], applied: set[int], slot_key: Callable[[datetime], Any]
) -> list[dict[str, Any]]:
    """Per (slot, task, kind, bucket) counts and sums of the applied outcomes' waits and
    durations: a handful of rollup writes per batch, whatever its size."""
    sums: dict[tuple[Any, str, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for outcome in outcomes:
        if outcome.job_id not in applied:
            continue
        slot = slot_key(outcome.finished_at)
        observed = [(DURATION, outcome.duration_ms)]
        if outcome.wait_ms is not None:
            observed.append((WAIT, outcome.wait_ms))
        for kind, ms in observed:
            counts = sums[(slot, outcome.task, kind, bucket_of(ms))]
            counts[0] += 1
            counts[1] += ms
    return [
        {"slot": slot, "task": task, "kind": kind, "bucket": bucket, "n": n, "total_ms": total}
        for (slot, task, kind, bucket), (n, total) in sums.items()
    ]


def latency_from_row(row: Row, key: str) -> LatencyRow:
    """One summed histogram bucket of a time bucket (``key`` "start", epoch seconds) or of a
    task (``key`` "task")."""
    label = row[key] if key == "task" else _iso_start(row[key])
    return LatencyRow(label, row["kind"], row["bucket"], row["count"], row["total_ms"])


@lru_cache(maxsize=4096)
def _iso_start(epoch_seconds: int) -> str:
    # Many rows share each time bucket's start: a chart's worth of them is read per request.
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat()


def latency_folds(before: datetime) -> list[tuple[datetime, int]]:
    """compact_stats' histogram passes: (fold rows older than this, into slots this long),
    each bound on its slot length so no slot is left half folded."""
    passes = []
    for age, seconds in LATENCY_FOLDS:
        bound = int((before - age).timestamp())
        passes.append((datetime.fromtimestamp(bound - bound % seconds, UTC), seconds))
    return passes


def schedule_clauses(name: str | None, active_only: bool) -> list[str]:
    """Names of the ``where_schedule_*`` fragments ``list_schedules`` needs."""
    wanted = {"where_schedule_name": name is not None, "where_schedule_active": active_only}
    return [clause for clause, needed in wanted.items() if needed]


def audit_clauses(filters: AuditFilter) -> list[str]:
    """Names of the ``audit_where_*`` fragments a filter needs."""
    wanted = {
        "audit_where_actor": filters.actor is not None,
        "audit_where_action": filters.action_type is not None,
        "audit_where_target": filters.target is not None,
        "audit_where_from": filters.date_from is not None,
        "audit_where_to": filters.date_to is not None,
        "audit_where_operator_only": not filters.executions,
        "audit_where_executions_only": not filters.operator_actions,
        "audit_where_before": filters.before is not None,
    }
    return [name for name, needed in wanted.items() if needed]
