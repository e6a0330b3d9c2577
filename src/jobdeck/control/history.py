"""What operators did to one job or one schedule, and why: the drawer's "Operator actions"
and the manual runs of a schedule card's "Last 10 executions", read from the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jobdeck.states import Trigger
from jobdeck.store.base import AuditFilter, AuditRow, JobRow, Store

# How far back a list looks: a job's or a schedule's own actions, not the whole log. A manual
# run older than the schedule's last RUN_NOW_LOOKBACK Run Now clicks shows no reason, nor a
# job older than its task's last RUN_NOW_LOOKBACK New jobs.
JOB_ACTIONS_LIMIT = 50
MAX_REASON = 500  # characters: a reason is a sentence or two, not a report
RUN_NOW_LOOKBACK = 100


@dataclass(frozen=True)
class OperatorAction:
    """One audited action as a person reads it: who did what, when, why, from where."""

    at: datetime
    actor: str
    action: str  # retry, cancel, run_now, or one of those with _refused / _failed
    reason: str | None
    via: str | None
    note: str | None = None  # e.g. "already queued: this run was returned"

    @classmethod
    def of(cls, row: AuditRow) -> OperatorAction:
        details = row.details
        note = None
        if row.action_type == "run_now" and details.get("created") is False:
            note = "already queued or running: this run was returned"
        elif details.get("error"):
            note = str(details["error"])
        return cls(
            at=row.timestamp,
            actor=row.actor,
            action=row.action_type,
            reason=_text(details.get("reason")),
            via=_text(details.get("via")),
            note=note,
        )


def job_actions(store: Store, job: JobRow) -> list[OperatorAction]:
    """Retries and cancels of this job, and the Run Now or New job that created it; newest
    first."""
    rows = store.list_audit(
        AuditFilter(target=f"job {job.id}", executions=False), JOB_ACTIONS_LIMIT
    )
    if job.trigger == Trigger.MANUAL and job.schedule:
        rows += _run_now_rows(store, job.schedule).get(job.id, [])
    elif job.trigger == Trigger.MANUAL:
        rows += _enqueue_rows(store, job)
    rows.sort(key=_newest_first)
    return [OperatorAction.of(row) for row in rows]


def manual_run_requests(store: Store, schedule: str) -> dict[int, OperatorAction]:
    """For each manual run of ``schedule`` (by job id): the Run Now that created it."""
    requests = {}
    for job_id, rows in _run_now_rows(store, schedule).items():
        created = [row for row in rows if row.details.get("created") is not False]
        requests[job_id] = OperatorAction.of((created or rows)[-1])  # the oldest: the creator
    return requests


def _run_now_rows(store: Store, schedule: str) -> dict[int, list[AuditRow]]:
    """The schedule's recent Run Now rows by the job each returned, newest first."""
    filters = AuditFilter(target=f"schedule {schedule}", action_type="run_now", executions=False)
    found: dict[int, list[AuditRow]] = {}
    for row in store.list_audit(filters, RUN_NOW_LOOKBACK):
        job_id = row.details.get("job_id")
        if isinstance(job_id, int):
            found.setdefault(job_id, []).append(row)
    return found


def _enqueue_rows(store: Store, job: JobRow) -> list[AuditRow]:
    """The New job (or ``jobdeck jobs enqueue``) that created this job, among its task's
    recent ones: audited on the task, since the job had no id yet."""
    filters = AuditFilter(target=f"task {job.task}", action_type="enqueue", executions=False)
    rows = store.list_audit(filters, RUN_NOW_LOOKBACK)
    return [row for row in rows if row.details.get("job_id") == job.id]


def _newest_first(row: AuditRow) -> tuple[float, int]:
    # Ids are "op-9", "op-10": by number, not as text, when two rows share a timestamp.
    return (-row.timestamp.timestamp(), -int(row.id.rpartition("-")[2] or 0))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
