"""Request and response shapes of the REST API (they make /api/openapi.json precise)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints

from jobdeck.control import Stats
from jobdeck.schedules import ScheduleStatus
from jobdeck.states import JobState
from jobdeck.store.base import AttemptRow, AuditRow, JobRow, TokenRow, UserRow, WorkerInfo
from jobdeck.web.params import NO_NUL, Name

# The schema says what accounts take (an "@" inside, no spaces; 8 characters or more), so
# a request that fits it is refused only by the rules no schema can hold (a role this deck does
# not define, an email already taken): those are 400s. No NUL or lone surrogate either.
# Spaces spelt out, not \s: Python's and pydantic's (Rust's) regex engines disagree on it.
EMAIL = r"^[^ @\x00][^ \x00]*@[^ \x00]*[^ @\x00]$"
Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024, pattern=NO_NUL)]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


# Every route may answer these, each with an ErrorBody.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 503)
}


class JobOut(BaseModel):
    id: int
    task: str
    queue: str
    state: str
    badge: str
    attempt: int
    max_attempts: int
    priority: int
    args: dict[str, Any]
    labels: dict[str, str]
    enqueued_at: datetime
    run_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    worker_id: str | None
    trigger: str
    triggered_by: str | None
    schedule: str | None
    unique_key: str | None
    result: Any = None
    summary: str | None
    error: str | None

    @classmethod
    def of(cls, job: JobRow) -> JobOut:
        return cls(
            id=job.id,
            task=job.task,
            queue=job.queue,
            state=job.state,
            badge=JobState(job.state).badge,
            attempt=job.attempt,
            max_attempts=job.max_attempts,
            priority=job.priority,
            args=job.args,
            labels=job.labels,
            enqueued_at=job.enqueued_at,
            run_at=job.run_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            duration_ms=job.duration_ms,
            worker_id=job.worker_id,
            trigger=job.trigger,
            triggered_by=job.triggered_by,
            schedule=job.schedule,
            unique_key=job.unique_key,
            result=job.result,
            summary=job.summary,
            error=job.error,
        )


class AttemptOut(BaseModel):
    attempt: int
    status: str
    worker_id: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    error: str | None
    traceback: str | None

    @classmethod
    def of(cls, a: AttemptRow) -> AttemptOut:
        return cls(
            attempt=a.attempt,
            status=a.status,
            worker_id=a.worker_id,
            started_at=a.started_at,
            finished_at=a.finished_at,
            duration_ms=a.duration_ms,
            error=a.error,
            traceback=a.traceback,
        )


class JobPageOut(BaseModel):
    jobs: list[JobOut]
    next_before: int | None
    prev_after: int | None


class JobDetailOut(BaseModel):
    job: JobOut
    attempts: list[AttemptOut]


class BucketOut(BaseModel):
    start: datetime
    succeeded: int
    failed: int


class TaskCountOut(BaseModel):
    task: str
    total: int
    succeeded: int
    failed: int
    avg_duration_ms: float | None


class StatsOut(BaseModel):
    period: str
    since: datetime
    until: datetime
    bucket_seconds: int
    total: int
    succeeded: int
    failed: int
    avg_duration_ms: float | None
    series: list[BucketOut]
    by_task: list[TaskCountOut]

    @classmethod
    def of(cls, s: Stats) -> StatsOut:
        return cls(
            period=s.period,
            since=s.since,
            until=s.until,
            bucket_seconds=s.bucket_seconds,
            total=s.total,
            succeeded=s.succeeded,
            failed=s.failed,
            avg_duration_ms=s.avg_duration_ms,
            series=[
                BucketOut(
                    start=datetime.fromisoformat(r.key), succeeded=r.succeeded, failed=r.failed
                )
                for r in s.series
            ],
            by_task=[
                TaskCountOut(
                    task=r.key,
                    total=r.total,
                    succeeded=r.succeeded,
                    failed=r.failed,
                    avg_duration_ms=r.duration_ms / r.total if r.total else None,
                )
                for r in s.by_task
            ],
        )


class WorkerOut(BaseModel):
    id: str
    host: str
    pid: int
    queues: list[str]
    concurrency: int
    started_at: datetime
    last_heartbeat: datetime
    state: str
    clock_offset_ms: int | None  # the host's clock ahead (+) or behind (-) the database's

    @classmethod
    def of(cls, w: WorkerInfo) -> WorkerOut:
        return cls(
            id=w.id,
            host=w.host,
            pid=w.pid,
            queues=list(w.queues),
            concurrency=w.concurrency,
            started_at=w.started_at,
            last_heartbeat=w.last_heartbeat,
            state=w.state,
            clock_offset_ms=w.clock_offset_ms,
        )


class WorkersOut(BaseModel):
    healthy: bool
    level: Literal["healthy", "degraded", "unhealthy"]
    reason: str
    expected_workers: int
    last_heartbeat: datetime | None
    workers: list[WorkerOut]
    lost: list[WorkerOut]  # silent for over three heartbeats without stopping, last hour


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "unhealthy"]


class ScheduleOut(BaseModel):
    name: str
    task: str
    title: str
    description: str
    frequency: str
    timezone: str
    status: str
    active: bool
    paused: bool
    stale: bool
    may_be_stuck: bool
    last_run_at: datetime | None
    next_run_at: datetime | None
    last_success_at: datetime | None
    last_job_id: int | None
    last_summary: str | None
    last_error: str | None
    expected_max_age_seconds: float | None
    alert_after_seconds: float | None

    @classmethod
    def of(cls, s: ScheduleStatus) -> ScheduleOut:
        return cls(
            name=s.name,
            task=s.task,
            title=s.title,
            description=s.description,
            frequency=s.frequency,
            timezone=s.timezone,
            status=s.status,
            active=s.active,
            paused=s.paused,
            stale=s.stale,
            may_be_stuck=s.may_be_stuck,
            last_run_at=s.last_run_at,
            next_run_at=s.next_run_at,
            last_success_at=s.last_success_at,
            last_job_id=s.last_job_id,
            last_summary=s.last_summary,
            last_error=s.last_error,
            expected_max_age_seconds=s.expected_max_age.total_seconds()
            if s.expected_max_age
            else None,
            alert_after_seconds=s.alert_after.total_seconds() if s.alert_after else None,
        )


class ScheduleDetailOut(BaseModel):
    schedule: ScheduleOut
    runs: list[JobOut]


class RunNowOut(BaseModel):
    job_id: int
    created: bool
    message: str


class AuditRowOut(BaseModel):
    id: str
    timestamp: datetime
    actor: str
    role: str | None
    action_type: str
    target: str | None
    ip: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, r: AuditRow) -> AuditRowOut:
        return cls(
            id=r.id,
            timestamp=r.timestamp,
            actor=r.actor,
            role=r.role,
            action_type=r.action_type,
            target=r.target,
            ip=r.ip,
            details=r.details,
        )


class AuditPageOut(BaseModel):
    rows: list[AuditRowOut]
    next_before_ts: datetime | None
    next_before_id: str | None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, u: UserRow) -> UserOut:
        return cls(
            id=u.id,
            email=u.email,
            name=u.name,
            role=u.role,
            active=u.active,
            created_at=u.created_at,
            last_login_at=u.last_login_at,
        )


class UserIn(BaseModel):
    email: Email
    password: Password
    role: Name
    name: Name | None = None


class UserChange(BaseModel):
    role: Name | None = None
    active: bool | None = None
    password: Password | None = None


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    role: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: TokenRow) -> TokenOut:
        return cls(
            id=t.id,
            name=t.name,
            prefix=t.prefix,
            role=t.role,
            created_by=t.created_by,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )


class TokenIn(BaseModel):
    name: Name
    role: Name


class TokenCreatedOut(BaseModel):
    token: TokenOut
    secret: str
