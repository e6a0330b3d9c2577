"""Jobs as operators see them: the task list's filters and pages, one job's detail, and the
retry and cancel actions (audited)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from jobdeck.auditlog import Actor
from jobdeck.clock import Clock
from jobdeck.control.audit import audited
from jobdeck.control.search import (
    SEARCH_WINDOW,
    hides_matches,
    matches_visibly,
    parse_search,
    reaches_every_job,
    redact_job,
    visible_pages,
)
from jobdeck.errors import ConfigError, InvalidTransition, JobNotFound
from jobdeck.states import PENDING_STATES, STATUS_FILTERS, JobState
from jobdeck.store.base import (
    AttemptRow,
    JobFilter,
    JobLink,
    JobProgress,
    JobRow,
    LogLine,
    Store,
)

PAGE_SIZE = 50
JobAction = Literal["retry", "cancel"]


@dataclass(frozen=True)
class JobQuery:
    """The task list's filters, as people type them."""

    task_text: str | None = None
    status: str | None = None  # success, failed, running, pending, cancelled, or an engine state
    date_from: datetime | None = None
    date_to: datetime | None = None
    queue: str | None = None
    schedule: str | None = None
    search: str | None = None  # the search box: see control/search.py
    ids: tuple[int, ...] | None = None  # only these jobs (the rows an operator selected)
    error_group: str | None = None  # a fingerprint: the jobs whose latest failure is in it


@dataclass(frozen=True)
class JobPage:
    rows: list[JobRow]
    next_before_id: int | None  # pass as before_id for the next (older) page
    prev_after_id: int | None = None  # pass as after_id for the previous (newer) page


@dataclass(frozen=True)
class JobDetail:
    job: JobRow
    attempts: list[AttemptRow]
    # What its task reported: the last progress of each attempt, the log lines of all.
    progress: list[JobProgress] = field(default_factory=list)
    log_lines: list[LogLine] = field(default_factory=list)
    # The jobs it runs after (parents) and those that run after it (children), by id.
    links: list[JobLink] = field(default_factory=list)

    @property
    def parents(self) -> list[JobLink]:
        return [link for link in self.links if link.relation == "parent"]

    @property
    def children(self) -> list[JobLink]:
        return [link for link in self.links if link.relation == "child"]

    def waiting_for(self) -> str | None:
        """The drawer's line for a job still waiting on its parents: "waiting for 2 of 3
        parent jobs" (those not succeeded yet); None for any other job."""
        if self.job.state != JobState.WAITING:
            return None
        parents = self.parents
        left = sum(1 for link in parents if link.state != JobState.SUCCEEDED)
        noun = "parent job" if len(parents) == 1 else "parent jobs"
        return f"waiting for {left} of {len(parents)} {noun} to succeed"

    def progress_of(self, attempt: int) -> JobProgress | None:
        return next((p for p in self.progress if p.attempt == attempt), None)

    def lines_of(self, attempt: int) -> list[LogLine]:
        return [line for line in self.log_lines if line.attempt == attempt]


def states_for_status(status: str | None) -> frozenset[JobState] | None:
    if not status or status.lower() == "all":
        return None
    key = status.lower()
    if key in STATUS_FILTERS:
        return STATUS_FILTERS[key]
    try:
        return frozenset({JobState(key)})
    except ValueError:
        choices = ", ".join(["all", *STATUS_FILTERS, *(s.value for s in JobState)])
        raise ConfigError(f"unknown status {status!r}: use one of {choices}") from None


def resolve_task_names(store: Store, text: str | None) -> list[str] | None:
    """Free text -> the task names containing it (case-insensitive).

    Matching against the small set of distinct names, then filtering by exact names, keeps the
    list query on an index instead of a LIKE scan over every job.
    """
    if not text or not text.strip():
        return None
    needle = text.strip().lower()
    return [name for name in store.task_names() if needle in name.lower()]


def to_filter(store: Store, query: JobQuery, redact: Iterable[str] = ()) -> JobFilter:
    search = parse_search(query.search, redact)
    return JobFilter(
        states=states_for_status(query.status),
        tasks=resolve_task_names(store, query.task_text),
        queue=query.queue,
        schedule=query.schedule,
        error_group=query.error_group,
        enqueued_from=query.date_from,
        enqueued_to=query.date_to,
        text=search.text,
        arg_terms=search.arg_terms,
        label_terms=search.label_terms,
        newest=SEARCH_WINDOW if search.text or search.arg_terms or search.label_terms else None,
        ids=query.ids,
    )


def job_of_search(store: Store, query: JobQuery) -> int | None:
    """The job a search for an id names, when it exists: the search box opens its drawer."""
    search = parse_search(query.search)
    if search.job_id is None or store.get_job(search.job_id) is None:
        return None
    return search.job_id


def list_jobs(
    store: Store,
    query: JobQuery,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
    after_id: int | None = None,
    *,
    redact: Iterable[str] = (),
) -> JobPage:
    """A page of jobs, newest first, with cursors to the older and the newer page; argument
    keys in ``redact`` are masked.

    Keyset pagination: one more row than the page is read to know whether another page
    exists, so no page costs a count over the whole table.
    """
    filters = to_filter(store, query, redact)
    rows = store.list_jobs(filters, before_id, limit + 1, after_id=after_id)
    rows = [redact_job(job, redact) for job in rows]
    if redact:
        rows = [job for job in rows if matches_visibly(job, filters.text)]
    if after_id is not None:
        newer_exists = len(rows) > limit
        rows = rows[-limit:]
        older = rows[-1].id if rows else None
        return JobPage(rows, older, rows[0].id if rows and newer_exists else None)
    older_exists = len(rows) > limit
    rows = rows[:limit]
    newer = rows[0].id if rows and before_id is not None else None
    return JobPage(rows, rows[-1].id if older_exists and rows else None, newer)


def count_jobs(store: Store, query: JobQuery) -> int:
    return store.count_jobs(to_filter(store, query))


# Counts above this show as "10,000+": each count walks an index and stops here, so the header
# costs the same at a million jobs as at a thousand.
COUNT_CAP = 10_000
# An indexed search counts the states of its newest matches in the whole table, each looked
# up in jobs: 10,000 of them cost 100-200 ms at a million jobs (docs/performance.md), so its
# counts stop sooner.
SEARCH_COUNT_CAP = 1_000
COUNTED_STATUSES = ("pending", "running", "failed", "success", "cancelled")


@dataclass(frozen=True)
class StatusCount:
    status: str  # a Status filter value
    count: int
    more: bool  # the count stopped at its cap: there are at least this many


def count_cap(query: JobQuery) -> int:
    """Where the counts of ``query`` stop: ``SEARCH_COUNT_CAP`` for a search the index
    serves, ``COUNT_CAP`` otherwise."""
    return SEARCH_COUNT_CAP if reaches_every_job(query.search) else COUNT_CAP


def status_counts(
    store: Store, query: JobQuery, *, redact: Iterable[str] = (), cap: int | None = None
) -> list[StatusCount]:
    """Jobs per Status filter value under the other filters (the Status filter itself is
    not applied: each count is what choosing that status would show); each stops at ``cap``,
    by default ``count_cap(query)``."""
    cap = count_cap(query) if cap is None else cap
    filters = replace(to_filter(store, query, redact), states=None)
    if hides_matches(filters, redact):
        by_state, search_capped = _visible_states(store, filters, redact, cap)
    else:
        by_state = store.count_jobs_by_state(filters, cap)
        search_capped = filters.searches and sum(by_state.values()) >= cap
    counts = []
    for status in COUNTED_STATUSES:
        states = STATUS_FILTERS[status]
        n = sum(by_state.get(state, 0) for state in states)
        more = search_capped or any(by_state.get(state, 0) >= cap for state in states)
        counts.append(StatusCount(status, n, more))
    return counts


def _visible_states(
    store: Store, filters: JobFilter, redact: Iterable[str], cap: int
) -> tuple[dict[JobState, int], bool]:
    """The states of the newest ``cap`` matches that match once masked, as the list shows
    them (a count of jobs matched only in a redacted value would confirm a guessed secret);
    and whether ``cap`` matches were read, so there may be more."""
    by_state: dict[JobState, int] = {}
    read = 0
    for shown, read_so_far in visible_pages(store, filters, redact, read_at_most=cap):
        read = read_so_far
        for job in shown:
            by_state[job.state] = by_state.get(job.state, 0) + 1
    return by_state, read >= cap


def job_detail(store: Store, job_id: int, *, redact: Iterable[str] = ()) -> JobDetail:
    job = store.get_job(job_id)
    if job is None:
        raise JobNotFound(f"job {job_id} does not exist")
    return JobDetail(
        redact_job(job, redact),
        store.get_attempts(job_id),
        store.get_progress([job_id]),
        store.get_log_lines(job_id),
        store.get_job_links(job_id),
    )


def running_progress(store: Store, jobs: list[JobRow]) -> dict[int, JobProgress]:
    """The current attempt's progress of each running job among ``jobs`` (for the task list)."""
    attempts = {job.id: job.attempt for job in jobs if job.state == JobState.RUNNING}
    return {
        p.job_id: p for p in store.get_progress(list(attempts)) if attempts[p.job_id] == p.attempt
    }


def retry_job(
    store: Store, clock: Clock, job_id: int, actor: Actor, *, reason: str | None = None
) -> JobRow:
    """Run a failed, cancelled or retrying job again now (one more attempt if it had none left)."""
    return act_on_job(store, clock, "retry", job_id, actor, reason=reason)


def cancel_job(
    store: Store, clock: Clock, job_id: int, actor: Actor, *, reason: str | None = None
) -> JobRow:
    """Cancel a job: a pending one at once; a running one is stopped by its worker, which
    learns of it at its next heartbeat (the returned row is still running then)."""
    return act_on_job(store, clock, "cancel", job_id, actor, reason=reason)


_ALLOWED = {
    "retry": "only failed, retrying or cancelled jobs can be retried",
    "cancel": "only pending or running jobs can be cancelled",
}


def can_cancel(job: JobRow) -> bool:
    """Whether Cancel applies to the job now (a running one asked once already does not)."""
    if job.state == JobState.RUNNING:
        return job.cancel_requested_at is None
    return job.state in PENDING_STATES


def act_on_job(
    store: Store,
    clock: Clock,
    action: JobAction,
    job_id: int,
    actor: Actor,
    *,
    reason: str | None = None,
) -> JobRow:
    """Retry or cancel, as the drawer's buttons and ``POST /api/jobs/{id}/{action}`` ask."""

    def operate() -> JobRow:
        job = job_detail(store, job_id).job
        if action == "retry":
            changed = store.retry_job(job_id, clock.now())
        else:
            changed = store.cancel_job(job_id, clock.now(), actor.name)
        if changed is None and action == "cancel" and job.state == JobState.RUNNING:
            raise InvalidTransition(
                f"job {job_id} is being cancelled already (by {job.cancelled_by}): its worker "
                "stops it at its next heartbeat"
            )
        if changed is None:
            raise InvalidTransition(f"job {job_id} is {job.state}: {_ALLOWED[action]}")
        return changed

    return audited(
        store,
        clock,
        actor,
        action,
        f"job {job_id}",
        operate,
        details=lambda job: {"task": job.task, "state": str(job.state)},
        reason=reason,
    )
