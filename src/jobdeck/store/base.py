"""The store protocols: job-lifecycle verbs, grouped by role, that both the SQLite and
PostgreSQL stores implement.

Each layer above asks for the role it uses (the worker a ``QueueStore``, a page an
``InsightStore``); ``Store`` joins them all and is what ``open_store`` returns. The records the
verbs take and return live in ``store/records.py`` and are importable from here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, Unpack

from jobdeck.states import JobState
from jobdeck.store.limiting import LimitUsage
from jobdeck.store.records import (
    AlertRow,
    AttemptRow,
    AuditAction,
    AuditFilter,
    AuditRow,
    BulkBatch,
    BulkRequest,
    ClaimedJob,
    ClaimRequest,
    ErrorGroupPoint,
    ErrorGroupRow,
    InsertResult,
    JobFilter,
    JobLink,
    JobProgress,
    JobRow,
    LatencyRow,
    LoginAttempts,
    LogLine,
    ManualRun,
    ManualRunRequest,
    NewJob,
    Outcome,
    QueuePause,
    RescuedJob,
    ScheduleDef,
    ScheduleRow,
    SchemaStatus,
    SessionRow,
    StatsRow,
    TokenRow,
    UserChanges,
    UserRow,
    WorkerInfo,
    WorkerOrders,
)

__all__ = [
    "AccessStore",
    "AlertRow",
    "AttemptRow",
    "AuditAction",
    "AuditFilter",
    "AuditRow",
    "BulkBatch",
    "BulkRequest",
    "ClaimRequest",
    "ClaimedJob",
    "ErrorGroupPoint",
    "ErrorGroupRow",
    "ErrorGroupStore",
    "FleetStore",
    "InsertResult",
    "InsightStore",
    "JobFilter",
    "JobLink",
    "JobProgress",
    "JobRow",
    "LatencyRow",
    "LogLine",
    "LoginAttempts",
    "ManualRun",
    "ManualRunRequest",
    "NewJob",
    "Outcome",
    "QueuePause",
    "QueueStore",
    "RescuedJob",
    "ScheduleDef",
    "ScheduleRow",
    "ScheduleStore",
    "SchemaStatus",
    "SchemaStore",
    "SessionRow",
    "StatsRow",
    "Store",
    "TokenRow",
    "UserChanges",
    "UserRow",
    "WorkerInfo",
    "WorkerOrders",
]


class SchemaStore(Protocol):
    """The database itself: its schema, the caller's own transactions, closing."""

    url: str
    dialect: str
    # A server other hosts reach on their own (PostgreSQL): one worker can lose it while the
    # others keep it, so workers watch their leases; and it pushes the operators' orders.
    remote: bool

    def transaction(self) -> AbstractContextManager[Any]:
        """A DB-API connection inside a transaction (committed on success, rolled back on an
        error), for application tables that live beside jobdeck's: sqlite3 takes ``:name``
        parameters, psycopg ``%(name)s``."""
        ...

    def migrate(self) -> list[str]: ...
    def schema_status(self) -> SchemaStatus: ...
    def check_schema(self) -> None: ...
    def close(self) -> None: ...


class QueueStore(Protocol):
    """A job's way through the queue: enqueued, claimed under a lease, finished, handed back,
    rescued, retried or cancelled, pruned; and the workers that hold the leases.

    Time: leases, heartbeats and rescue read one clock, the store's, at the moment each row is
    written: PostgreSQL's ``clock_timestamp()`` on the server, so hosts whose clocks disagree
    still agree on every lease. With a clock given (a ``ManualClock`` in tests) the store reads
    that one instead, so tests still move time by hand. SQLite is one host: its store reads the
    clock inside the write transaction, after any wait for the lock.

    Fencing: every write that ends or extends an attempt names its worker (and the attempt),
    and changes only jobs that worker still runs in that attempt; a late write changes nothing.
    """

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
    def wait_for_orders(self, worker_id: str, timeout: float) -> bool:
        """Block until an operator gives ``worker_id`` (or every worker) an order: a cancel of
        one of its running jobs, a queue paused or resumed, a drain (True), or ``timeout``
        passes (False). A store that is not ``remote`` pushes none: it waits the timeout out."""
        ...

    def notify_orders(self, worker_id: str) -> None:
        """End ``worker_id``'s wait_for_orders now (a stopping worker wakes its own listener
        rather than wait out its timeout); nothing on a store that pushes no orders."""
        ...

    # workers
    def register_worker(self, info: WorkerInfo) -> None: ...
    def heartbeat_worker(
        self, worker_id: str, at: datetime | None, state: str, clock_offset_ms: int | None = None
    ) -> datetime | None:
        """Mark the worker alive at ``at``, or with None (what workers pass) at the store's
        time as it writes; return the time written (None: no such worker). A measured offset
        of the worker's host clock from the store's is recorded with it."""
        ...

    def deregister_worker(self, worker_id: str, at: datetime | None = None) -> None:
        """Mark the worker stopped at ``at``, or with None at the store's time."""
        ...

    # operating
    def retry_job(self, job_id: int, now: datetime) -> JobRow | None: ...
    def cancel_job(
        self, job_id: int, now: datetime, cancelled_by: str | None = None
    ) -> JobRow | None:
        """Cancel a pending job at once; mark a running one cancelled by ``cancelled_by``, for
        its worker to stop at its next heartbeat (the job stays running until it has). None
        when the job is finished (or a running one was already asked)."""
        ...

    def prune_finished(self, before: datetime, limit: int) -> int: ...
    def act_on_jobs(self, request: BulkRequest) -> BulkBatch:
        """One batch of a bulk retry, cancel or delete: the oldest ``request.limit`` jobs
        matching its filter (in states the action allows) with ids above ``after_id``, in one
        short transaction, so workers claim and complete between batches."""
        ...


class InsightStore(Protocol):
    """Reading what happened: jobs and their attempts, counts, the stats rollups, workers."""

    def get_job(self, job_id: int) -> JobRow | None: ...
    def get_attempts(self, job_id: int) -> list[AttemptRow]: ...
    def list_jobs(
        self, filters: JobFilter, before_id: int | None, limit: int, after_id: int | None = None
    ) -> list[JobRow]:
        """Newest first; ``before_id`` pages to older jobs, ``after_id`` to newer ones."""
        ...

    def count_jobs(self, filters: JobFilter) -> int: ...
    def count_by_state(self) -> dict[JobState, int]: ...
    def count_jobs_by_state(self, filters: JobFilter, cap: int) -> dict[JobState, int]:
        """Jobs matching ``filters`` per state (states with none absent), each count stopping
        at ``cap``; with search terms, the states of the newest ``cap`` matches."""
        ...

    def task_names(self) -> list[str]: ...
    def index_search(self, limit: int) -> int:
        """Write the search text of up to ``limit`` more finished jobs into the search index:
        those past its mark in finish order, finished over ``store.search.SEARCH_LAG`` ago;
        how many. 0 when it has caught up, or (PostgreSQL) another worker is indexing."""
        ...

    def limit_usage(self) -> LimitUsage:
        """What the concurrency limits count now (running jobs per queue, task and key) and
        when each rate-limited task or key may next start a job."""
        ...

    def stats_series(
        self, since: datetime, until: datetime, bucket_seconds: int
    ) -> list[StatsRow]: ...
    def stats_by_task(self, since: datetime, until: datetime) -> list[StatsRow]: ...
    def latency_series(
        self, since: datetime, until: datetime, bucket_seconds: int
    ) -> list[LatencyRow]:
        """The wait and duration histograms of all tasks' attempts that finished in [since,
        until), per time bucket of ``bucket_seconds`` (epoch-aligned) and histogram bucket.
        They are kept per 15 minutes (older ones coarser, see compact_stats): a time bucket
        finer than its rows reads them whole."""
        ...

    def latency_by_task(self, since: datetime, until: datetime) -> list[LatencyRow]:
        """The same histograms per task, summed over [since, until)."""
        ...

    def compact_stats(self, before: datetime) -> int:
        """Fold per-minute rollups older than ``before`` into hourly rows (same table, same
        sums): a 30-day chart then reads ~4k rows instead of ~43k per task. The histograms'
        15-minute slots fold too: older than ``before`` into 2-hour rows (the 7-day chart's
        step), a week older into 6-hour rows (the 30-day chart's), a month older into days.
        Returns how many counter rows folded."""
        ...

    def list_workers(self, since: datetime | None = None) -> list[WorkerInfo]: ...
    def get_progress(self, job_ids: Sequence[int]) -> list[JobProgress]:
        """The last progress each attempt of these jobs reported (one row per attempt)."""
        ...

    def get_log_lines(self, job_id: int) -> list[LogLine]:
        """The lines the job's attempts logged, oldest first."""
        ...

    def get_job_links(self, job_id: int) -> list[JobLink]:
        """The jobs this one runs after (its parents) and those that run after it (its
        children), each with its task and state, by id."""
        ...

    # written by workers, in batches off the jobs' hot path
    def write_reports(self, progress: Sequence[JobProgress], lines: Sequence[LogLine]) -> None:
        """Upsert each attempt's progress (the latest per attempt wins) and append log lines,
        in one transaction."""
        ...


class ScheduleStore(Protocol):
    """Schedules: declared definitions, ticks enqueued exactly once, pause and alert states,
    and the log of alerts sent about them."""

    def sync_schedules(self, schedules: Sequence[ScheduleDef], now: datetime) -> None: ...
    def list_schedules(
        self, name: str | None = None, active_only: bool = False
    ) -> list[ScheduleRow]: ...
    def enqueue_tick(self, schedule: str, tick_at: datetime, job: NewJob) -> int | None: ...
    def enqueue_manual_run(self, request: ManualRunRequest) -> ManualRun:
        """Run Now: insert the request's job unless the schedule's latest manual run is still
        queued or running, or finished less than ``cooldown_seconds`` ago and the request is
        not confirmed; then answer with that run and why. The check and the insert are one
        write transaction under a per-schedule lock, so concurrent requests (from any number
        of connections) make at most one run per cooldown."""
        ...

    def advance_schedule(self, name: str, tick_at: datetime) -> None: ...
    def set_schedule_paused(self, name: str, paused: bool, now: datetime) -> bool: ...
    def change_alert_state(self, name: str, from_states: Sequence[str], to_state: str) -> bool: ...

    # alerts
    def record_alert(
        self, kind: str, subject: str, message: str, details_json: str, now: datetime
    ) -> int: ...
    def mark_alert_delivered(self, alert_id: int, now: datetime, error: str | None) -> None: ...
    def list_alerts(self, limit: int = 50) -> list[AlertRow]: ...


class ErrorGroupStore(Protocol):
    """Failures grouped by fingerprint: written by ``complete_jobs`` (a failed ``Outcome``'s
    ``error_group``), read from the per-minute rollup, muted, and retried a batch at a time.
    The jobs of a group are ``list_jobs(JobFilter(error_group=...))``."""

    def list_error_groups(
        self, since: datetime, until: datetime, include_muted: bool, limit: int
    ) -> list[ErrorGroupRow]:
        """Groups that failed in [since, until), most failures first."""
        ...

    def error_group_series(
        self, since: datetime, until: datetime, bucket_seconds: int, fingerprints: Sequence[str]
    ) -> list[ErrorGroupPoint]:
        """Failures per bucket of these groups (buckets with none are left out)."""
        ...

    def get_error_group(self, fingerprint: str) -> ErrorGroupRow | None:
        """One group with its all-time counts."""
        ...

    def set_error_group_muted(self, fingerprint: str, muted_by: str | None, now: datetime) -> bool:
        """Mute the group in ``muted_by``'s name, or unmute it with None; False: no such group."""
        ...

    def retry_error_group(
        self, fingerprint: str, now: datetime, after_id: int, limit: int
    ) -> list[int]:
        """Run again now up to ``limit`` failed or retrying jobs of the group with ids above
        ``after_id``, in id order; the ids retried (pass their highest as the next after_id)."""
        ...

    def compact_error_groups(self, before: datetime, bucket_seconds: int = 3600) -> int:
        """Fold the rollup's rows older than ``before`` into rows of ``bucket_seconds`` (a
        divisor of a day, ``before`` on its boundary), as ``compact_stats`` folds into hours;
        how many rows were folded."""
        ...


class AccessStore(Protocol):
    """Who may do what: users, sessions, API tokens, login throttling, and the audit log."""

    # users
    def create_user(
        self, email: str, name: str, role: str, password_hash: str, now: datetime
    ) -> UserRow | None: ...
    def get_user(self, user_id: int) -> UserRow | None: ...
    def find_user(self, email: str) -> UserRow | None: ...
    def list_users(self) -> list[UserRow]: ...
    def update_user(
        self, user_id: int, now: datetime, **changes: Unpack[UserChanges]
    ) -> UserRow | None: ...
    def record_login(self, user_id: int, now: datetime) -> None: ...

    # sessions
    def create_session(self, session: SessionRow) -> None: ...
    def get_session(self, id_hash: str) -> SessionRow | None: ...
    def touch_session(self, id_hash: str, now: datetime) -> None: ...
    def delete_session(self, id_hash: str) -> None: ...
    def delete_user_sessions(self, user_id: int) -> None: ...

    # tokens
    def create_token(
        self, name: str, token_hash: str, prefix: str, role: str, created_by: str, now: datetime
    ) -> TokenRow: ...
    def find_token(self, token_hash: str) -> TokenRow | None: ...
    def list_tokens(self) -> list[TokenRow]: ...
    def revoke_token(self, token_id: int, now: datetime) -> bool: ...
    def touch_token(self, token_id: int, now: datetime) -> None: ...

    # login throttling
    def get_login_attempts(self, key: str) -> LoginAttempts | None: ...
    def save_login_attempts(self, attempts: LoginAttempts) -> None: ...
    def clear_login_attempts(self, key: str) -> None: ...

    # audit
    def record_action(self, action: AuditAction) -> int: ...
    def list_audit(self, filters: AuditFilter, limit: int) -> list[AuditRow]: ...
    def prune_audit(self, before: datetime) -> int: ...


class FleetStore(Protocol):
    """Operators' orders to the fleet: paused queues and drain requests. Workers read them
    once per heartbeat (``worker_orders``), never per claim, so the claim path pays nothing."""

    def pause_queue(self, pause: QueuePause) -> bool:
        """Pause ``pause.queue``; False when it was paused already (the first pause stays)."""
        ...

    def resume_queue(self, queue: str) -> bool:
        """Resume ``queue``; False when it was not paused."""
        ...

    def list_paused_queues(self) -> list[QueuePause]: ...
    def request_worker_stop(self, worker_id: str, now: datetime) -> bool:
        """Ask a worker to drain and stop; False when no such worker is running."""
        ...

    def worker_orders(self, worker_id: str) -> WorkerOrders: ...
    def count_open_by_queue(self) -> dict[str, dict[JobState, int]]:
        """Unfinished jobs by queue and state (queues with none are absent), in one pass."""
        ...


class Store(
    SchemaStore,
    QueueStore,
    InsightStore,
    ScheduleStore,
    ErrorGroupStore,
    AccessStore,
    FleetStore,
    Protocol,
):
    """One implementation per dialect; ``tests/store`` runs every verb against both."""
