"""What waits in each queue: pending and running counts and the oldest due job, read through
the indexes that only hold unfinished jobs, so their cost follows the backlog, not the history.

Shared by the dashboard's ``/metrics`` and the scheduler's alert rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobdeck.states import JobState
from jobdeck.store.base import JobFilter, Store

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
    """One QueueBacklog per known queue, and one for OTHER_QUEUES when jobs lie elsewhere."""
    store = deck.store
    found = []
    for queue in known_queues(deck, now):
        counts = {
            state: store.count_jobs(JobFilter(states=frozenset({state}), queue=queue))
            for state in OPEN_STATES
        }
        found.append(QueueBacklog(queue, counts, oldest_due_at(store, queue)))
    if with_other:
        rest = {
            state: store.count_jobs(JobFilter(states=frozenset({state})))
            - sum(b.counts[state] for b in found)
            for state in OPEN_STATES
        }
        if any(n > 0 for n in rest.values()):
            found.append(QueueBacklog(OTHER_QUEUES, {s: max(0, n) for s, n in rest.items()}, None))
    return found
