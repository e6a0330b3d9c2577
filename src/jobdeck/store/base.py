"""The store protocol: job-lifecycle verbs that both the SQLite and PostgreSQL stores implement."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from jobdeck.states import AttemptStatus, JobState, Trigger


@dataclass(frozen=True)
class NewJob:
    """A job to insert; args and labels are already JSON text (validated by the caller)."""

    task: str
    args_json: str = "{}"
    labels_json: str = "{}"
    queue: str = "default"
    priority: int = 0
    max_attempts: int = 3
    timeout: float | None = None
    run_at: datetime | None = None  # None: now
    unique_key: str | None = None
    # "active": dedupe against scheduled, available, retryable and running jobs;
    # "pending": only against jobs that have not started yet.
    unique_while: str = "active"
    schedule: str | None = None
    tick_at: datetime | None = None
    trigger: Trigger = Trigger.CODE
    triggered_by: str | None = None


@dataclass(frozen=True)
class InsertResult:
    job_id: int
    created: bool  # False when an existing job with the same unique key was returned


@dataclass(frozen=True)
class ClaimRequest:
    """Up to ``limit`` due jobs of ``queues`` for ``worker_id``.

    The store stamps the claim with its own time when it writes it (the database's clock, see
    ``Store``), and each lease ends ``lease_seconds`` after that moment: a claim delayed on the
    way, or sent by a host whose clock is off, still gets a whole lease.
    """

    worker_id: str
    queues: Sequence[str]
    limit: int
    lease_seconds: float


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    task: str
    queue: str
    args_json: str
    attempt: int
    max_attempts: int
    timeout: float | None
    started_at: datetime  # the store's time at the claim


@dataclass(frozen=True)
class Outcome:
    """The end of one attempt, as the worker saw it; the store applies it only if still fenced."""

    job_id: int
    attempt: int
    task: str
    status: AttemptStatus  # succeeded or failed
    next_state: JobState  # succeeded, retryable or failed
    started_at: datetime
    finished_at: datetime
    run_at: datetime | None = None  # when a retryable job runs again
    result_json: str | None = None
    summary: str | None = None
    error: str | None = None
    traceback: str | None = None
    # False for a PermanentFailure: a bad input, not an incident to alert operators about.
    alert: bool = True

    @property
    def duration_ms(self) -> int:
        return max(0, round((self.finished_at - self.started_at).total_seconds() * 1000))


@dataclass(frozen=True)
class RescuedJob:
    id: int
    task: str
    attempt: int
    state: JobState
    worker_id: str | None


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    host: str
    pid: int
    queues: Sequence[str]
    concurrency: int
    started_at: datetime
    last_heartbeat: datetime
    state: str = "running"
    version: str = ""
    # How far the worker's host clock is ahead of the database's, in milliseconds (negative:
    # behind), as measured at its last heartbeats; None until measured. Shown, never trusted.
    clock_offset_ms: int | None = None


@dataclass(frozen=True)
class JobRow:
    id: int
    task: str
    queue: str
    args: dict[str, Any]
    labels: dict[str, str]
    priority: int
    state: JobState
    attempt: int
    max_attempts: int
    timeout: float | None
    enqueued_at: datetime
    run_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    worker_id: str | None
    lease_expires_at: datetime | None
    unique_key: str | None
    schedule: str | None
    tick_at: datetime | None
    trigger: str
    triggered_by: str | None
    result: Any
    summary: str | None
    error: str | None


@dataclass(frozen=True)
class AttemptRow:
    job_id: int
    attempt: int
    status: AttemptStatus
    worker_id: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    error: str | None
    traceback: str | None


@dataclass(frozen=True)
class JobFilter:
    """Task-list filters; ``tasks`` is the task-name text already resolved to exact names."""

    states: frozenset[JobState] | None = None
    tasks: Sequence[str] | None = None
    queue: str | None = None
    enqueued_from: datetime | None = None
    enqueued_to: datetime | None = None
    schedule: str | None = None
    # Set by stores from the date range (see store/listing.py), never by callers.
    min_id: int | None = None
    max_id: int | None = None


@dataclass(frozen=True)
class StatsRow:
    """Attempt counts from the per-minute rollups, for one bucket or one task."""

    key: str  # bucket start (ISO) or task name
    succeeded: int = 0
    failed: int = 0
    duration_ms: int = 0

    @property
    def total(self) -> int:
        return self.succeeded + self.failed


@dataclass(frozen=True)
class SchemaStatus:
    current: int
    latest: int
    pending: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScheduleDef:
    """A schedule as declared in code, synced into the ``schedules`` table."""

    name: str
    task: str
    title: str
    cron: str | None = None
    every_seconds: float | None = None
    timezone: str = "UTC"
    description: str = ""
    expected_max_age_seconds: float | None = None
    alert_after_seconds: float | None = None
    catch_up: str = "latest"
    args_json: str = "{}"
    queue: str = "default"


@dataclass(frozen=True)
class ScheduleRow:
    """A schedule with the facts its status is computed from (its latest run, last success)."""

    definition: ScheduleDef
    active: bool
    paused: bool
    last_tick_at: datetime | None
    alert_state: str
    created_at: datetime
    last_job_id: int | None
    last_state: JobState | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_duration_ms: int | None
    last_summary: str | None
    last_error: str | None
    last_trigger: str | None
    last_success_at: datetime | None
    running_job_id: int | None
    running_since: datetime | None


@dataclass(frozen=True)
class AlertRow:
    id: int
    kind: str
    subject: str
    message: str
    details: dict[str, Any]
    created_at: datetime
    delivered_at: datetime | None
    delivery_error: str | None


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    name: str
    role: str
    active: bool
    password_hash: str
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class SessionRow:
    id_hash: str
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    role: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class LoginAttempts:
    key: str
    failures: int
    window_started_at: datetime
    locked_until: datetime | None


@dataclass(frozen=True)
class AuditAction:
    """An operator action to record; job executions come from attempts, not from here."""

    actor: str
    action_type: str
    timestamp: datetime
    role: str | None = None
    target: str | None = None
    ip: str | None = None
    details_json: str = "{}"


@dataclass(frozen=True)
class AuditRow:
    id: str  # "op-N" for operator actions, "run-N" for job executions
    timestamp: datetime
    actor: str
    role: str | None
    action_type: str
    target: str | None
    ip: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action_type: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    executions: bool = True  # include job executions (the "logs" permission)
    operator_actions: bool = True  # include operator actions (admins)
    before: tuple[datetime, str] | None = None  # keyset cursor: (timestamp, id)


class Store(Protocol):
    """One implementation per dialect; ``tests/store`` runs every verb against both.

    Time: leases, heartbeats and rescue read one clock, the store's, at the moment each row is
    written: PostgreSQL's ``clock_timestamp()`` on the server, so hosts whose clocks disagree
    still agree on every lease. With a clock given (a ``ManualClock`` in tests) the store reads
    that one instead, so tests still move time by hand. SQLite is one host: its store reads the
    clock inside the write transaction, after any wait for the lock.
    """

    url: str
    dialect: str

    # your own SQL in the same database
    def transaction(self) -> AbstractContextManager[Any]:
        """A DB-API connection inside a transaction (committed on success, rolled back on an
        error), for application tables that live beside jobdeck's: sqlite3 takes ``:name``
        parameters, psycopg ``%(name)s``."""
        ...

    # schema
    def migrate(self) -> list[str]: ...
    def schema_status(self) -> SchemaStatus: ...
    def check_schema(self) -> None: ...
    def close(self) -> None: ...

    # producing
    def insert_jobs(self, jobs: Sequence[NewJob], conn: Any = None) -> list[InsertResult]: ...

    # consuming
    def claim_jobs(self, request: ClaimRequest) -> list[ClaimedJob]: ...
    def complete_jobs(
        self, worker_id: str, outcomes: Sequence[Outcome], shard: int
    ) -> list[int]: ...
    def hand_back_jobs(self, worker_id: str, jobs: Sequence[tuple[int, int]]) -> int: ...
    def renew_leases(self, worker_id: str, lease_seconds: float) -> int:
        """Extend the leases of the worker's running jobs to ``lease_seconds`` from now."""
        ...

    def rescue_expired(self, skip_worker: str | None = None) -> list[RescuedJob]:
        """Retry (or fail, out of attempts) running jobs whose lease is out, except those of
        ``skip_worker`` (the caller's own worker, which knows its jobs are alive)."""
        ...

    def wait_for_jobs(self, timeout: float) -> bool: ...
    def notify_jobs(self) -> None: ...

    # workers
    def register_worker(self, info: WorkerInfo) -> None: ...
    def heartbeat_worker(
        self,
        worker_id: str,
        at: datetime | None,
        state: str,
        clock_offset_ms: int | None = None,
    ) -> datetime | None:
        """Mark the worker alive at ``at``, or with None (what workers pass) at the store's
        time as it writes; return the time written (None: no such worker). A measured offset
        of the worker's host clock from the store's is recorded with it."""
        ...

    def deregister_worker(self, worker_id: str, at: datetime | None = None) -> None:
        """Mark the worker stopped at ``at``, or with None at the store's time."""
        ...

    def list_workers(self, since: datetime | None = None) -> list[WorkerInfo]: ...

    # reading
    def get_job(self, job_id: int) -> JobRow | None: ...
    def get_attempts(self, job_id: int) -> list[AttemptRow]: ...
    def list_jobs(
        self, filters: JobFilter, before_id: int | None, limit: int, after_id: int | None = None
    ) -> list[JobRow]:
        """Newest first; ``before_id`` pages to older jobs, ``after_id`` to newer ones."""
        ...

    def count_jobs(self, filters: JobFilter) -> int: ...
    def count_by_state(self) -> dict[JobState, int]: ...
    def task_names(self) -> list[str]: ...
    def stats_series(
        self, since: datetime, until: datetime, bucket_seconds: int
    ) -> list[StatsRow]: ...
    def stats_by_task(self, since: datetime, until: datetime) -> list[StatsRow]: ...

    # operating
    def retry_job(self, job_id: int, now: datetime) -> JobRow | None: ...
    def cancel_job(self, job_id: int, now: datetime) -> JobRow | None: ...
    def prune_finished(self, before: datetime, limit: int) -> int: ...
    def compact_stats(self, before: datetime) -> int:
        """Fold per-minute rollups older than ``before`` into hourly rows (same table, same
        sums): a 30-day chart then reads ~4k rows instead of ~43k per task."""
        ...

    # schedules
    def sync_schedules(self, schedules: Sequence[ScheduleDef], now: datetime) -> None: ...
    def list_schedules(
        self, name: str | None = None, active_only: bool = False
    ) -> list[ScheduleRow]: ...
    def enqueue_tick(self, schedule: str, tick_at: datetime, job: NewJob) -> int | None: ...
    def advance_schedule(self, name: str, tick_at: datetime) -> None: ...
    def set_schedule_paused(self, name: str, paused: bool, now: datetime) -> bool: ...
    def change_alert_state(self, name: str, from_states: Sequence[str], to_state: str) -> bool: ...

    # alerts
    def record_alert(
        self, kind: str, subject: str, message: str, details_json: str, now: datetime
    ) -> int: ...
    def mark_alert_delivered(self, alert_id: int, now: datetime, error: str | None) -> None: ...
    def list_alerts(self, limit: int = 50) -> list[AlertRow]: ...

    # users, sessions, tokens
    def create_user(
        self, email: str, name: str, role: str, password_hash: str, now: datetime
    ) -> UserRow | None: ...
    def get_user(self, user_id: int) -> UserRow | None: ...
    def find_user(self, email: str) -> UserRow | None: ...
    def list_users(self) -> list[UserRow]: ...
    def update_user(
        self,
        user_id: int,
        now: datetime,
        *,
        name: str | None = None,
        role: str | None = None,
        active: bool | None = None,
        password_hash: str | None = None,
    ) -> UserRow | None: ...
    def record_login(self, user_id: int, now: datetime) -> None: ...
    def create_session(self, session: SessionRow) -> None: ...
    def get_session(self, id_hash: str) -> SessionRow | None: ...
    def touch_session(self, id_hash: str, now: datetime) -> None: ...
    def delete_session(self, id_hash: str) -> None: ...
    def delete_user_sessions(self, user_id: int) -> None: ...
    def create_token(
        self, name: str, token_hash: str, prefix: str, role: str, created_by: str, now: datetime
    ) -> TokenRow: ...
    def find_token(self, token_hash: str) -> TokenRow | None: ...
    def list_tokens(self) -> list[TokenRow]: ...
    def revoke_token(self, token_id: int, now: datetime) -> bool: ...
    def touch_token(self, token_id: int, now: datetime) -> None: ...
    def get_login_attempts(self, key: str) -> LoginAttempts | None: ...
    def save_login_attempts(self, attempts: LoginAttempts) -> None: ...
    def clear_login_attempts(self, key: str) -> None: ...

    # audit
    def record_action(self, action: AuditAction) -> int: ...
    def list_audit(self, filters: AuditFilter, limit: int) -> list[AuditRow]: ...
    def prune_audit(self, before: datetime) -> int: ...
