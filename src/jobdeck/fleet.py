"""The fleet as the database sees it: the workers' health, and what waits in each queue.

Queue backlogs (pending and running counts, the oldest due job) are read through the indexes
that only hold unfinished jobs, so their cost follows the backlog, not the history. Shared by
the control layer (the health pill, ``/api/health``), ``/metrics`` and the alert rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from jobdeck.clock import Clock
from jobdeck.errors import JobDeckError
from jobdeck.states import JobState
from jobdeck.store.base import JobFilter, Store, WorkerInfo

if TYPE_CHECKING:
    from jobdeck.deck import Deck

# The states a job waits or runs in; finished jobs are counted by the rollups, never here.
OPEN_STATES = (JobState.SCHEDULED, JobState.AVAILABLE, JobState.RETRYABLE, JobState.RUNNING)
# Jobs in queues that no worker, schedule or setting names are reported under this label.
OTHER_QUEUES = "(other)"


@dataclass(frozen=True)
class QueueBacklog:
    queue: str
    counts: dict[JobState, int]  # OPEN_STATES only
    oldest_due_at: datetime | None  # run_at of the oldest available job, None when there is none

    def waited(self, now: datetime) -> timedelta:
        """How long the oldest available job has been due (zero when none is)."""
        if self.oldest_due_at is None:
            return timedelta(0)
        return max(timedelta(0), now - self.oldest_due_at)


def known_queues(deck: Deck, now: datetime) -> list[str]:
    """Queues named by this process's settings and tasks, by the workers seen in the last
    day and by the schedules. The store has no "distinct queues" verb, and a DISTINCT over
    every job would be the full-table read this module avoids; jobs in other queues are
    counted under OTHER_QUEUES."""
    names = set(deck.settings.queues)
    for worker in deck.store.list_workers(since=now - timedelta(days=1)):
        names.update(worker.queues)
    names.update(row.definition.queue for row in deck.store.list_schedules())
    names.update(task.queue for task in deck.tasks.values())
    return sorted(names)


def oldest_due_at(store: Store, queue: str) -> datetime | None:
    """The run_at of the lowest-id available job of ``queue``: the one that has waited longest,
    since an available job was due when it was enqueued. One step along (state, id)."""
    rows = store.list_jobs(
        JobFilter(states=frozenset({JobState.AVAILABLE}), queue=queue), None, 1, after_id=0
    )
    return rows[0].run_at if rows else None


def queue_backlogs(deck: Deck, now: datetime, *, with_other: bool = True) -> list[QueueBacklog]:
    """One QueueBacklog per known queue, and one for OTHER_QUEUES when jobs lie elsewhere: the
    counts from one grouped read of the backlog (``count_open_by_queue``), not one per queue
    and state."""
    store = deck.store
    open_counts = store.count_open_by_queue()
    known = known_queues(deck, now)
    found = [
        QueueBacklog(queue, _open_counts(open_counts.get(queue, {})), oldest_due_at(store, queue))
        for queue in known
    ]
    if with_other:
        rest = {state: 0 for state in OPEN_STATES}
        for queue, counts in open_counts.items():
            if queue not in known:
                for state, n in counts.items():
                    rest[state] += n
        if any(n > 0 for n in rest.values()):
            found.append(QueueBacklog(OTHER_QUEUES, rest, None))
    return found


def _open_counts(counts: dict[JobState, int]) -> dict[JobState, int]:
    return {state: counts.get(state, 0) for state in OPEN_STATES}


HealthLevel = Literal["healthy", "degraded", "unhealthy"]
HEALTHY: HealthLevel = "healthy"
DEGRADED: HealthLevel = "degraded"
UNHEALTHY: HealthLevel = "unhealthy"
# A worker that went silent without stopping shows as lost for this long: long enough for
# an operator to notice it, and for its jobs' leases to run out and be rescued.
LOST_VISIBLE = timedelta(hours=1)


@dataclass(frozen=True)
class Health:
    """The worker pill: healthy when a heartbeat is younger than three intervals and at least
    ``expected_workers`` are heartbeating; degraded when some but fewer are; else unhealthy."""

    level: HealthLevel
    reason: str  # why not healthy, or how many workers beat
    last_heartbeat: datetime | None
    workers: list[WorkerInfo]  # heartbeating now
    lost: list[WorkerInfo] = field(default_factory=list)  # silent, never stopped, recent

    @property
    def healthy(self) -> bool:
        return self.level == HEALTHY

    @classmethod
    def down(cls, reason: str) -> Health:
        return cls(UNHEALTHY, reason, None, [])


def worker_health(
    store: Store, clock: Clock, heartbeat_interval: float, expected_workers: int = 0
) -> Health:
    now = clock.now()
    try:
        workers = store.list_workers(since=now - timedelta(days=1))
    except JobDeckError as exc:
        return Health.down(f"database unreachable: {exc}")
    limit = timedelta(seconds=3 * heartbeat_interval)
    fresh = [w for w in workers if w.state != "stopped" and now - w.last_heartbeat <= limit]
    lost = [
        w
        for w in workers
        if w.state != "stopped" and limit < now - w.last_heartbeat <= LOST_VISIBLE
    ]
    lost.sort(key=lambda w: w.last_heartbeat, reverse=True)
    if fresh:
        newest = max(w.last_heartbeat for w in fresh)
        if len(fresh) < expected_workers:
            why = f"{len(fresh)} of {expected_workers} workers heartbeating"
            return Health(DEGRADED, why, newest, fresh, lost)
        return Health(HEALTHY, f"{len(fresh)} worker(s) heartbeating", newest, fresh, lost)
    latest = max((w.last_heartbeat for w in workers), default=None)
    if latest is None:
        return Health(UNHEALTHY, "no worker has sent a heartbeat", None, [], lost)
    age = int((now - latest).total_seconds())
    stopped = all(w.state == "stopped" for w in workers if w.last_heartbeat == latest)
    why = "the last worker stopped" if stopped else "no worker heartbeat"
    return Health(UNHEALTHY, f"{why} {age} s ago", latest, [], lost)
