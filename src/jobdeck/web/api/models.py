"""Request and response shapes of the REST API (they make /api/openapi.json precise).

The response models of records (a job, an attempt, a schedule's status, a user...) are derived
from the record's dataclass: its fields, in its order, less those the API hides, with only the
API's differences declared (a type it publishes otherwise, a field it computes). A field added
to a record is in the API and its schema without a copy here to forget.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self, get_type_hints

from pydantic import BaseModel, Field, StringConstraints, model_validator

from jobdeck.control import Health, RunNowResult, Stats
from jobdeck.control.history import MAX_REASON, OperatorAction
from jobdeck.schedules import ScheduleStatus
from jobdeck.states import JobState
from jobdeck.store.base import (
    AttemptRow,
    AuditRow,
    JobProgress,
    JobRow,
    LogLine,
    StatsRow,
    TokenRow,
    UserRow,
    WorkerInfo,
)
from jobdeck.web.params import NO_NUL, Name

# The schema says what accounts take (an "@" inside, no spaces; 8 characters or more), so
# a request that fits it is refused only by the rules no schema can hold (a role this deck does
# not define, an email already taken): those are 400s. No NUL or lone surrogate either.
# Spaces spelt out, not \s: Python's and pydantic's (Rust's) regex engines disagree on it.
EMAIL = r"^[^ @\x00][^ \x00]*@[^ \x00]*[^ @\x00]$"
Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024, pattern=NO_NUL)]


class RecordOut(BaseModel):
    """A response model whose fields are a record dataclass's, read from a record::

        class UserOut(RecordOut, record=UserRow, hide=("password_hash",)):
            pass

        UserOut.of(user)

    Declare a field to change its type or default (the declaration wins, in the record's
    place) or to add one: an added field is read from the record's attribute of that name (a
    property) or given by ``computed``. Every record field is required, defaults or not: an
    answer always holds all of them. Models of records nested in a record validate them too.
    """

    record: ClassVar[type | None] = None
    hidden: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(
        cls, record: type | None = None, hide: Collection[str] = (), **kwargs: Any
    ) -> None:
        # Runs inside class creation, before pydantic reads the annotations into fields: the
        # record's fields go first, in its order, then the declared ones (the declarations win).
        if record is not None:
            cls.record, cls.hidden = record, frozenset(hide)
            hints = get_type_hints(record)
            derived = {f.name: hints[f.name] for f in dataclasses.fields(record)}
            declared = inspect.get_annotations(cls)
            kept = {name: hint for name, hint in derived.items() if name not in hide}
            cls.__annotations__ = {**kept, **declared}
        super().__init_subclass__(**kwargs)

    @classmethod
    def of(cls, record: Any, **given: Any) -> Self:
        """The model of ``record``; ``given`` are values the record does not hold."""
        return cls.model_validate({**cls._read(record), **given})

    @classmethod
    def computed(cls, record: Any) -> dict[str, Any]:
        """Values of the declared fields the record holds under no such name."""
        return {}

    @classmethod
    def _read(cls, record: Any) -> dict[str, Any]:
        held = {name: getattr(record, name) for name in cls.model_fields if hasattr(record, name)}
        return {**held, **cls.computed(record)}

    @model_validator(mode="before")
    @classmethod
    def _from_record(cls, value: Any) -> Any:
        if cls.record is not None and isinstance(value, cls.record):
            return cls._read(value)
        return value


class ErrorDetail(BaseModel):
    code: str
    message: str


class ReasonIn(BaseModel):
    """The optional body of an operator's action (retry, cancel, Run Now, pause, resume): why,
    for the audit log."""

    reason: str | None = Field(
        default=None,
        max_length=MAX_REASON,
        pattern=NO_NUL,
        description="Why the operator acts; stored with the audit row and shown with it.",
        examples=["SMTP is back up"],
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


# Every route may answer these, each with an ErrorBody.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 503)
}

# -- records -------------------------------------------------------------------------------------
# No docstrings on the models below: pydantic would publish them as schema descriptions.


class JobOut(
    RecordOut, record=JobRow, hide=("timeout", "lease_expires_at", "tick_at", "has_children")
):
    state: str
    badge: str  # the state's colour class in a UI
    result: Any = None

    @classmethod
    def computed(cls, record: Any) -> dict[str, Any]:
        return {"badge": JobState(record.state).badge}


class AttemptOut(RecordOut, record=AttemptRow, hide=("job_id",)):
    status: str


class WorkerOut(RecordOut, record=WorkerInfo, hide=("version",)):
    queues: list[str]
    # clock_offset_ms: the host's clock ahead (+) or behind (-) the database's


class WorkersOut(RecordOut, record=Health):
    workers: list[WorkerOut]
    lost: list[WorkerOut]  # silent for over three heartbeats without stopping, last hour
    healthy: bool
    expected_workers: int


class ScheduleOut(
    RecordOut,
    record=ScheduleStatus,
    hide=(
        "last_duration_ms",
        "running_job_id",
        "expected_max_age",
        "alert_after",
        "alert_state",
        "catch_up",
        "run_now_cooldown",
        "run_now_cooldown_left",
    ),
):
    expected_max_age_seconds: float | None
    alert_after_seconds: float | None
    badge_text: str  # the card's badge: "Failed · retrying in 4 s" while tries remain
    run_now: Literal["ready", "active", "cooldown"]
    run_now_cooldown_seconds: float
    run_now_cooldown_left_seconds: float | None

    @classmethod
    def computed(cls, record: Any) -> dict[str, Any]:
        age, alert = record.expected_max_age, record.alert_after
        return {
            "expected_max_age_seconds": age.total_seconds() if age else None,
            "alert_after_seconds": alert.total_seconds() if alert else None,
            "run_now_cooldown_seconds": record.run_now_cooldown.total_seconds(),
            "run_now_cooldown_left_seconds": record.run_now_cooldown_left,
        }


class RunNowOut(RecordOut, record=RunNowResult, hide=("schedule",)):
    refused: Literal["active", "cooldown"] | None
    message: str  # one line saying what happened, e.g. "already running — job #12"


class BucketOut(RecordOut, record=StatsRow, hide=("key", "duration_ms")):
    start: datetime

    @classmethod
    def computed(cls, record: Any) -> dict[str, Any]:
        return {"start": datetime.fromisoformat(record.key)}


class TaskCountOut(RecordOut, record=StatsRow, hide=("key", "duration_ms")):
    task: str
    total: int
    avg_duration_ms: float | None

    @classmethod
    def computed(cls, record: Any) -> dict[str, Any]:
        average = record.duration_ms / record.total if record.total else None
        return {"task": record.key, "avg_duration_ms": average}


class StatsOut(RecordOut, record=Stats, hide=("duration_ms",)):
    series: list[BucketOut]
    by_task: list[TaskCountOut]
    total: int
    avg_duration_ms: float | None


class AuditRowOut(RecordOut, record=AuditRow):
    pass


class UserOut(RecordOut, record=UserRow, hide=("password_hash",)):
    pass


class TokenOut(RecordOut, record=TokenRow):
    pass


# -- pages and other answers ---------------------------------------------------------------------


class JobPageOut(BaseModel):
    jobs: list[JobOut]
    next_before: int | None
    prev_after: int | None
    # A search (``q``) for a job id that exists names it here: the job to open.
    job: int | None = None


class StatusCountOut(BaseModel):
    status: Literal["pending", "running", "failed", "success", "cancelled"]
    count: int
    more: bool  # the count stopped at its cap: at least ``count`` jobs


class StatusCountsOut(BaseModel):
    counts: list[StatusCountOut]
    cap: int


class BulkOut(BaseModel):
    action: Literal["retry", "cancel", "delete"]
    count: int  # jobs changed, or with dry_run the number the action would change now
    dry_run: bool


class OperatorActionOut(RecordOut, record=OperatorAction):
    """A retry, cancel or Run Now of one job: who, when, why (from the audit log)."""


class ProgressOut(RecordOut, record=JobProgress, hide=("job_id",)):
    pass


class LogLineOut(RecordOut, record=LogLine, hide=("job_id",)):
    pass


class JobDetailOut(BaseModel):
    job: JobOut
    attempts: list[AttemptOut]
    # What the task reported: the last progress of each attempt, and the log lines of all
    # (oldest first, each with its attempt; at most job_log_lines per attempt).
    progress: list[ProgressOut] = []
    log_lines: list[LogLineOut] = []
    # Newest first; null for a caller without the "logs" permission (the audit trail's).
    actions: list[OperatorActionOut] | None = None
    # Job dependencies, by id: the jobs it runs after, and those that run after it.
    parents: list[int] = []
    children: list[int] = []


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "unhealthy"]


class ScheduleDetailOut(BaseModel):
    schedule: ScheduleOut
    runs: list[JobOut]


class AuditPageOut(BaseModel):
    rows: list[AuditRowOut]
    next_before_ts: datetime | None
    next_before_id: str | None


class TokenCreatedOut(BaseModel):
    token: TokenOut
    secret: str


# -- requests ------------------------------------------------------------------------------------


class UserIn(BaseModel):
    email: Email
    password: Password
    role: Name
    name: Name | None = None


class UserChange(BaseModel):
    role: Name | None = None
    active: bool | None = None
    password: Password | None = None


class TokenIn(BaseModel):
    name: Name
    role: Name
