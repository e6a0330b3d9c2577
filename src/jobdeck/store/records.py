"""The records the store verbs take and return: jobs, attempts, workers, schedules, access."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypedDict

from jobdeck.fingerprints import ErrorGroupKey
from jobdeck.states import AttemptStatus, JobState, Trigger
from jobdeck.store.limiting import ClaimLimits


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
    # Parent job ids: the job waits until all of them succeeded, and is cancelled if one of
    # them fails, is cancelled or deleted. An id that names no job refuses the whole batch.
    after: tuple[int, ...] = ()


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
    # Return each job's labels too (the trace context enqueue left there); off, the claim
    # reads no labels at all: on PostgreSQL that costs about a tenth of the drain rate.
    labels: bool = False
    # The deck's concurrency and rate limits: None (no limit declared) claims by the one
    # unlimited statement, unchanged; otherwise the claim admits only jobs that fit them.
    limits: ClaimLimits | None = None


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 1 us more per job
class ClaimedJob:
    id: int
    task: str
    queue: str
    args_json: str
    attempt: int
    max_attempts: int
    timeout: float | None
    started_at: datetime  # the store's time at the claim
    labels_json: str = "{}"  # only when the claim asked for labels
    # From when this attempt was due (its run_at: the enqueue, a delay or a retry's backoff)
    # to the claim, on the store's clock; None when the store could not say.
    wait_ms: int | None = None


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 1 us more per job
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
    error_group: ErrorGroupKey | None = None  # a failure's fingerprint (jobdeck.fingerprints)
    # False for a PermanentFailure: a bad input, not an incident to alert operators about.
    alert: bool = True
    wait_ms: int | None = None  # the claimed job's wait (ClaimedJob.wait_ms): None, not counted
    # Worked out once: a store reads it up to four times per outcome (row, attempt, rollups).
    duration_ms: int = field(init=False)

    def __post_init__(self) -> None:
        elapsed = (self.finished_at - self.started_at).total_seconds()
        self.duration_ms = max(0, round(elapsed * 1000))


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
    # When an operator asked it to drain and stop (the worker obeys at its next heartbeat).
    stop_requested_at: datetime | None = None


@dataclass(frozen=True)
class QueuePause:
    """A queue an operator paused: workers claim nothing from it until it is resumed."""

    queue: str
    paused_at: datetime
    paused_by: str
    reason: str | None = None


@dataclass(frozen=True)
class WorkerOrders:
    """What operators ask of one worker, read at each of its heartbeats."""

    paused_queues: frozenset[str] = frozenset()
    stop_requested: bool = False
    # Running jobs of this worker an operator cancelled: (job id, attempt) -> who cancelled.
    cancelled_jobs: Mapping[tuple[int, int], str] = field(default_factory=dict)


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
    error_group: str | None = None  # the fingerprint of its latest failure
    # Set when an operator cancelled the job while it ran (its worker stops it) or before.
    cancel_requested_at: datetime | None = None
    cancelled_by: str | None = None
    # Some job was enqueued after this one (migration 0016): its end settles that job.
    has_children: bool = False


@dataclass(frozen=True)
class JobLink:
    """A job's parent (it runs after that one) or child (that one runs after it)."""

    relation: Literal["parent", "child"]
    job_id: int
    task: str
    state: JobState


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
class JobProgress:
    """How far one attempt got, as its task last reported (``total`` None: unknown)."""

    job_id: int
    attempt: int
    done: float
    total: float | None
    note: str | None
    updated_at: datetime


@dataclass(frozen=True)
class LogLine:
    """One line a task logged during an attempt (``jobdeck.current_job().log`` or ``logging``)."""

    job_id: int
    attempt: int
    at: datetime
    level: str
    message: str


@dataclass(frozen=True)
class SearchMark:
    """How far the search indexer got: every job finished at or before (finished_at, job_id)
    is in the index with its final text."""

    finished_at: datetime
    job_id: int


SearchPart = Literal["indexed", "scanned", "either", "candidates"]


@dataclass(frozen=True)
class JobFilter:
    """Task-list filters; ``tasks`` is the task-name text already resolved to exact names."""

    states: frozenset[JobState] | None = None
    tasks: Sequence[str] | None = None
    queue: str | None = None
    enqueued_from: datetime | None = None
    enqueued_to: datetime | None = None
    schedule: str | None = None
    # Search: a case-insensitive substring of the arguments, labels, summary or error text
    # (lower-cased by the caller), and exact (dotted path, value) terms on arguments / labels.
    text: str | None = None
    arg_terms: tuple[tuple[str, str], ...] = ()
    label_terms: tuple[tuple[str, str], ...] = ()
    # Only the newest this many jobs (by id) are looked at: what bounds a search with no index.
    newest: int | None = None
    ids: tuple[int, ...] | None = None  # only these jobs (rows an operator selected)
    error_group: str | None = None  # jobs whose latest failure has this fingerprint
    # Set by stores (see store/listing.py), never by callers: id bounds of the date range,
    # the first id of the newest-jobs window, and for a search on the index, its mark and
    # which part of the jobs a query reads (indexed ones, the others scanned, or either).
    min_id: int | None = None
    max_id: int | None = None
    window_min_id: int | None = None
    search_mark: SearchMark | None = None
    search_part: SearchPart | None = None

    @property
    def searches(self) -> bool:
        return bool(self.text or self.arg_terms or self.label_terms)


BulkAction = Literal["retry", "cancel", "delete"]


@dataclass(frozen=True)
class BulkRequest:
    """One batch of a bulk action: the jobs matching ``filters`` (and the action's allowed
    states) with ids above ``after_id``, at most ``limit`` of them, oldest first."""

    action: BulkAction
    filters: JobFilter
    limit: int
    now: datetime
    after_id: int = 0
    actor: str | None = None  # who cancels (a running job's worker is told who asked)


@dataclass(frozen=True)
class BulkBatch:
    changed: int
    last_id: int | None  # the highest id the batch looked at; None: nothing left to do
    running: int = 0  # of those changed, running jobs marked for their workers to stop


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
class LatencyRow:
    """One bucket of a wait or duration histogram, summed over a time bucket (all tasks) or
    over a task (the whole range), like StatsRow."""

    key: str  # time bucket start (ISO) or task name
    kind: str  # "wait" or "duration" (jobdeck.latency.KINDS)
    bucket: int  # index into jobdeck.latency.BOUNDS_MS (its length: past the last bound)
    count: int
    total_ms: int


@dataclass(frozen=True)
class ErrorGroupRow:
    """One error group: what it is, its first failure as a sample, and its counts in the
    period read (all time for ``get_error_group``)."""

    fingerprint: str
    exception: str
    title: str  # the normalised message
    frame: str  # the innermost frame of the task's own code ("" when none)
    task: str  # the task it was first seen in
    first_seen: datetime
    sample_job_id: int
    sample_error: str
    sample_traceback: str | None
    muted_at: datetime | None
    muted_by: str | None
    failures: int  # failed attempts in the period
    tasks: int  # distinct tasks that failed with it in the period
    last_seen: datetime  # the start of the last minute it failed in

    @property
    def muted(self) -> bool:
        return self.muted_at is not None


@dataclass(frozen=True)
class ErrorGroupPoint:
    """Failures of one group in one bucket of a sparkline."""

    fingerprint: str
    bucket: datetime
    failures: int


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
    run_now_cooldown_seconds: float = 10.0


@dataclass(frozen=True)
class ManualRunRequest:
    """A Run Now of a schedule: the job to insert (``job.schedule`` names the schedule) unless
    a manual run is still queued or running, or one finished less than ``cooldown_seconds``
    ago and the caller did not ``confirm`` a second one."""

    job: NewJob
    cooldown_seconds: float
    confirm: bool = False


@dataclass(frozen=True)
class ManualRun:
    """What a Run Now did: the new run, or the run that made one needless and why."""

    job_id: int
    created: bool
    state: JobState
    refused: str | None = None  # "active": queued or running; "cooldown": finished just now
    finished_at: datetime | None = None  # of the run returned, when it has finished
    cooldown_left_seconds: float | None = None  # until Run Now runs again unconfirmed


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
    last_retry_at: datetime | None = None  # when a retryable last run tries again
    manual_job_id: int | None = None  # the latest manual run that is active or finished
    manual_state: JobState | None = None
    manual_finished_at: datetime | None = None


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


class UserChanges(TypedDict, total=False):
    """What ``update_user`` may change, each by keyword; what is left out (or None) stays."""

    name: str | None
    role: str | None
    active: bool | None
    password_hash: str | None


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
    # Exactly this target ("job 12", "schedule nightly-report"). Operator actions are few; job
    # executions are matched by a scan of the attempts, so pair it with executions=False when
    # only the operators' rows are wanted (the drawer's and the schedule card's lists).
    target: str | None = None
    before: tuple[datetime, str] | None = None  # keyset cursor: (timestamp, id)
