"""Job states, triggers and the badge each state shows to people."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Where a job is in its life; a ``str`` so ``state == "failed"`` works."""

    SCHEDULED = "scheduled"
    # Enqueued with after=[...]: becomes available once all its parent jobs succeeded, never
    # claimed before (the claim's index holds scheduled, available and retryable jobs only).
    WAITING = "waiting"
    AVAILABLE = "available"
    RUNNING = "running"
    RETRYABLE = "retryable"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES

    @property
    def badge(self) -> str:
        return _BADGES[self]


class Trigger(StrEnum):
    """What caused a job to be enqueued."""

    CODE = "code"
    API = "api"
    CRON = "cron"
    MANUAL = "manual"


class AttemptStatus(StrEnum):
    """Outcome of one execution of a job."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"  # an operator cancelled it while it ran


PENDING_STATES = frozenset(
    {JobState.WAITING, JobState.SCHEDULED, JobState.AVAILABLE, JobState.RETRYABLE}
)
FINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})

_BADGES = {
    JobState.WAITING: "Waiting",
    JobState.SCHEDULED: "Pending",
    JobState.AVAILABLE: "Pending",
    JobState.RUNNING: "Running",
    JobState.RETRYABLE: "Failed · retrying",
    JobState.SUCCEEDED: "Success",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
}

# The Status filter of the dashboard and CLI, in the guide's words, mapped to engine states.
STATUS_FILTERS: dict[str, frozenset[JobState]] = {
    "success": frozenset({JobState.SUCCEEDED}),
    "failed": frozenset({JobState.FAILED, JobState.RETRYABLE}),
    "running": frozenset({JobState.RUNNING}),
    "pending": frozenset({JobState.WAITING, JobState.SCHEDULED, JobState.AVAILABLE}),
    "cancelled": frozenset({JobState.CANCELLED}),
}
