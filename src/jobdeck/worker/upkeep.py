"""The worker's upkeep services: heartbeat with lease renewal, rescue of lost jobs, timeouts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from jobdeck.clock import Clock
from jobdeck.settings import Settings
from jobdeck.states import JobState
from jobdeck.store.base import RescuedJob, Store
from jobdeck.worker.services import Looper

log = logging.getLogger("jobdeck.worker")


class Heartbeat(Looper):
    """Says the worker is alive and extends the lease of every job it holds, in one beat."""

    name = "heartbeat"

    def __init__(
        self,
        store: Store,
        worker_id: str,
        clock: Clock,
        settings: Settings,
        state: Callable[[], str],
    ) -> None:
        super().__init__(settings.heartbeat_interval)
        self.store = store
        self.worker_id = worker_id
        self.clock = clock
        self.lease = timedelta(seconds=settings.lease_duration)
        self.state = state

    def tick(self) -> None:
        now = self.clock.now()
        self.store.heartbeat_worker(self.worker_id, now, self.state())
        self.store.renew_leases(self.worker_id, now + self.lease)


class Rescuer(Looper):
    """Retries jobs whose worker stopped renewing their lease (killed, frozen, host gone)."""

    name = "rescuer"

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        on_failed: Callable[[RescuedJob], None] | None = None,
    ) -> None:
        super().__init__(settings.rescue_interval)
        self.store = store
        self.clock = clock
        self.rescued = 0
        self.on_failed = on_failed

    def tick(self) -> None:
        now = self.clock.now()
        rescued = self.store.rescue_expired(now, retry_at=now)
        for job in rescued:
            log.warning(
                "rescued job %s (%s) from lost worker %s: now %s",
                job.id,
                job.task,
                job.worker_id,
                job.state,
            )
            if job.state == JobState.FAILED and self.on_failed is not None:
                self.on_failed(job)
        self.rescued += len(rescued)


class TimeoutWatch(Looper):
    """Fails sync jobs that run past their timeout; async and process jobs time out themselves."""

    name = "timeouts"

    def __init__(self, expire: Callable[[float], None], interval: float = 0.1) -> None:
        super().__init__(interval)
        self.expire = expire

    def tick(self) -> None:
        self.expire(time.monotonic())


class Pruner(Looper):
    """Deletes finished jobs (with their attempts) and operator audit rows past retention.

    Deletes in bounded batches so a long backlog never holds the write lock for long; stats
    live in the rollups, so pruning raw history never changes the dashboard's numbers.
    """

    name = "pruner"
    BATCH = 5000

    def __init__(
        self, store: Store, clock: Clock, settings: Settings, interval: float = 3600.0
    ) -> None:
        super().__init__(interval)
        self.store = store
        self.clock = clock
        self.job_retention = timedelta(days=settings.job_retention_days)
        self.audit_retention = timedelta(days=settings.audit_retention_days)
        self.pruned = 0

    def tick(self) -> None:
        now = self.clock.now()
        while not self.stopping:
            removed = self.store.prune_finished(now - self.job_retention, self.BATCH)
            self.pruned += removed
            if removed < self.BATCH:
                break
        self.store.prune_audit(now - self.audit_retention)
        # Views up to 24h read minute rows; keep 25 hours of them, fold the rest into hours.
        self.store.compact_stats(
            (now - timedelta(hours=25)).replace(minute=0, second=0, microsecond=0)
        )
