"""Queues and workers: what the Queues and Workers pages show, pausing and resuming a queue,
and asking a worker to drain and stop (each action audited).

Backlogs are counted in one grouped read of the unfinished jobs (every queue at once, by its
real name). Throughput and failure rate come from the stats rollups, which are kept per task,
not per queue: a task's counts go to the queue its declaration names (``@deck.task(queue=)``).
Jobs enqueued to another queue with ``.options(queue=...)`` count under their task's queue,
and tasks this process does not declare under OTHER_QUEUES. Reading the queue off every
finished attempt would be the full-history read the rollups exist to avoid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobdeck.auditlog import Actor
from jobdeck.control.audit import audited
from jobdeck.control.limits import LimitView, limit_views
from jobdeck.control.stats import DEFAULT_PERIOD, PERIODS
from jobdeck.errors import ConfigError, UnknownWorker
from jobdeck.fleet import LOST_VISIBLE, OTHER_QUEUES, QueueBacklog, known_queues, oldest_due_at
from jobdeck.states import JobState
from jobdeck.store.base import JobFilter, JobRow, QueuePause, StatsRow, Store, WorkerInfo

if TYPE_CHECKING:
    from jobdeck.deck import Deck

MAX_QUEUE_NAME = 200
# Jobs read for the "running now" column: more than any fleet runs at once on one page.
MAX_RUNNING_SHOWN = 1000


@dataclass(frozen=True)
class QueueView:
    """One queue's row on the Queues page."""

    queue: str
    pending: int  # available: due and waiting for a worker
    scheduled: int  # waiting for their run_at
    running: int
    retrying: int  # failed an attempt, waiting for the next
    oldest_pending_at: datetime | None
    latency: timedelta  # how long the oldest pending job has waited
    succeeded: int  # in the period
    failed: int  # attempts that failed in the period
    paused: QueuePause | None
    workers: list[WorkerInfo]  # heartbeating now and claiming from it

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    @property
    def failure_rate(self) -> float | None:
        """Failed attempts over finished ones in the period (None when none finished)."""
        return self.failed / self.finished if self.finished else None


@dataclass(frozen=True)
class QueuesOverview:
    period: str
    since: datetime
    until: datetime
    queues: list[QueueView]
    # The deck's concurrency and rate limits and how full each is now (none declared: empty).
    limits: list[LimitView] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        return max(1.0, (self.until - self.since).total_seconds() / 60)

    def per_minute(self, view: QueueView) -> float:
        return view.finished / self.minutes


@dataclass(frozen=True)
class WorkerView:
    """One worker process on the Workers page."""

    info: WorkerInfo
    status: str  # running, draining (stopping: signalled or asked to), lost, stopped
    running_jobs: list[JobRow] = field(default_factory=list)

    @property
    def busy(self) -> int:
        return len(self.running_jobs)


# -- reading ---------------------------------------------------------------------------------


def queues_overview(deck: Deck, period: str = DEFAULT_PERIOD) -> QueuesOverview:
    """Every queue with unfinished jobs, every queue a worker, task, schedule or setting names
    and every paused one, with its backlog, latency, period counts, pause and serving workers."""
    if period not in PERIODS:
        raise ConfigError(f"unknown period {period!r}: use one of {', '.join(PERIODS)}")
    store = deck.store
    until = deck.clock.now()
    since = until - PERIODS[period][0]
    pauses = {p.queue: p for p in store.list_paused_queues()}
    open_counts = store.count_open_by_queue()  # one pass over the backlog, not one per queue
    done = _finished_by_queue(deck, store.stats_by_task(since, until))
    names = set(known_queues(deck, until)) | open_counts.keys() | pauses.keys() | done.keys()
    serving = _serving_workers(deck, until)
    views = [
        _queue_view(
            _backlog(store, name, open_counts.get(name, {})),
            until,
            done.get(name, (0, 0)),
            pauses.get(name),
            serving[name],
        )
        for name in sorted(names, key=lambda n: (n == OTHER_QUEUES, n))
    ]
    return QueuesOverview(period, since, until, views, limit_views(deck))


def _backlog(store: Store, queue: str, counts: dict[JobState, int]) -> QueueBacklog:
    # The oldest due job is one step along an index, and only worth it when some are pending.
    oldest = oldest_due_at(store, queue) if counts.get(JobState.AVAILABLE) else None
    return QueueBacklog(queue, counts, oldest)


def workers_overview(deck: Deck) -> list[WorkerView]:
    """Workers heartbeating now, lost ones and stopped ones of the last LOST_VISIBLE, each
    with the jobs it runs now; newest first."""
    now = deck.clock.now()
    workers = deck.store.list_workers(since=now - LOST_VISIBLE)
    running = _running_by_worker(deck, workers)
    limit = timedelta(seconds=3 * deck.settings.heartbeat_interval)
    return [WorkerView(w, _worker_status(w, now, limit), running.get(w.id, [])) for w in workers]


def _queue_view(
    backlog: QueueBacklog,
    now: datetime,
    done: tuple[int, int],
    pause: QueuePause | None,
    workers: list[WorkerInfo],
) -> QueueView:
    counts = backlog.counts
    return QueueView(
        queue=backlog.queue,
        pending=counts.get(JobState.AVAILABLE, 0),
        scheduled=counts.get(JobState.SCHEDULED, 0),
        running=counts.get(JobState.RUNNING, 0),
        retrying=counts.get(JobState.RETRYABLE, 0),
        oldest_pending_at=backlog.oldest_due_at,
        # Whole seconds: a queue's wait is read in seconds to hours, never in microseconds.
        latency=timedelta(seconds=round(backlog.waited(now).total_seconds())),
        succeeded=done[0],
        failed=done[1],
        paused=pause,
        workers=workers,
    )


def _finished_by_queue(deck: Deck, by_task: list[StatsRow]) -> dict[str, tuple[int, int]]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in by_task:
        task = deck.tasks.get(row.key)
        queue = task.queue if task is not None else OTHER_QUEUES
        sums[queue][0] += row.succeeded
        sums[queue][1] += row.failed
    return {queue: (s[0], s[1]) for queue, s in sums.items()}


def _serving_workers(deck: Deck, now: datetime) -> defaultdict[str, list[WorkerInfo]]:
    limit = timedelta(seconds=3 * deck.settings.heartbeat_interval)
    serving: defaultdict[str, list[WorkerInfo]] = defaultdict(list)
    for worker in deck.store.list_workers(since=now - limit):
        if worker.state == "running":
            for queue in worker.queues:
                serving[queue].append(worker)
    return serving


def _worker_status(worker: WorkerInfo, now: datetime, limit: timedelta) -> str:
    if worker.state == "stopped":
        return "stopped"
    if now - worker.last_heartbeat > limit:
        return "lost"
    if worker.state == "stopping" or worker.stop_requested_at is not None:
        return "draining"
    return "running"


def _running_by_worker(deck: Deck, workers: list[WorkerInfo]) -> dict[str, list[JobRow]]:
    if not any(w.state != "stopped" for w in workers):
        return {}
    rows = deck.store.list_jobs(
        JobFilter(states=frozenset({JobState.RUNNING})), None, MAX_RUNNING_SHOWN
    )
    found: dict[str, list[JobRow]] = defaultdict(list)
    for job in rows:
        if job.worker_id is not None:
            found[job.worker_id].append(job)
    return found


# -- acting ----------------------------------------------------------------------------------


def pause_queue(deck: Deck, queue: str, actor: Actor, *, reason: str | None = None) -> bool:
    """Pause ``queue`` on every worker (each stops claiming from it at its next heartbeat;
    running jobs finish). False when it was paused already."""
    name = checked_queue_name(queue)
    pause = QueuePause(name, deck.clock.now(), actor.name, (reason or "").strip() or None)
    return audited(
        deck.store,
        deck.clock,
        actor,
        "pause_queue",
        f"queue {name}",
        lambda: deck.store.pause_queue(pause),
        details=lambda changed: {"changed": changed},
        reason=reason,
    )


def resume_queue(deck: Deck, queue: str, actor: Actor, *, reason: str | None = None) -> bool:
    """Resume ``queue``: workers claim from it again at their next heartbeat. False when it
    was not paused."""
    name = checked_queue_name(queue)
    return audited(
        deck.store,
        deck.clock,
        actor,
        "resume_queue",
        f"queue {name}",
        lambda: deck.store.resume_queue(name),
        details=lambda changed: {"changed": changed},
        reason=reason,
    )


def stop_worker(deck: Deck, worker_id: str, actor: Actor, *, reason: str | None = None) -> None:
    """Ask a worker to drain and stop: at its next heartbeat it stops claiming, finishes its
    running jobs and exits."""
    wanted = worker_id.strip()

    def request() -> None:
        if not wanted or not deck.store.request_worker_stop(wanted, deck.clock.now()):
            raise UnknownWorker(f"no running worker has the id {worker_id!r}")

    audited(
        deck.store, deck.clock, actor, "stop_worker", f"worker {wanted}", request, reason=reason
    )


def checked_queue_name(queue: str) -> str:
    name = queue.strip()
    if not name:
        raise ConfigError("a queue name must not be empty")
    if len(name) > MAX_QUEUE_NAME:
        raise ConfigError(f"a queue name is at most {MAX_QUEUE_NAME} characters")
    if not name.isprintable():
        raise ConfigError("a queue name must not hold control characters")
    if name == OTHER_QUEUES:
        raise ConfigError(f"{OTHER_QUEUES} stands for many queues and cannot be paused")
    return name
