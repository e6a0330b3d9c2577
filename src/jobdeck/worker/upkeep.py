"""The worker's upkeep services: heartbeat with lease renewal, rescue of lost jobs, timeouts,
pruning and the search indexer."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from jobdeck.clock import Clock
from jobdeck.errors import JobDeckError
from jobdeck.settings import Settings
from jobdeck.states import JobState
from jobdeck.store.base import RescuedJob, Store, WorkerOrders
from jobdeck.worker.leases import Leases
from jobdeck.worker.services import Looper

log = logging.getLogger("jobdeck.worker")


# A reading whose round trip took longer than this says little about the clocks: skipped.
_MAX_MEASURE_ROUND_TRIP_S = 1.0


class Heartbeat(Looper):
    """Says the worker is alive and extends the lease of every job it holds, in one beat, and
    reads the operators' orders (paused queues, drain and stop) for ``on_orders``.

    Both are written with the store's clock. Each beat also measures how far this host's clock
    is from the store's (NTP's way: the store's time against the middle of the round trip),
    records it with the next beat, and warns once when it passes ``clock_skew_warning``.
    """

    name = "heartbeat"

    def __init__(
        self,
        store: Store,
        worker_id: str,
        clock: Clock,
        settings: Settings,
        state: Callable[[], str],
        on_orders: Callable[[WorkerOrders], None] = lambda _: None,
        leases: Leases | None = None,
    ) -> None:
        super().__init__(settings.heartbeat_interval)
        self.leases = leases
        self.on_orders = on_orders
        self.store = store
        self.worker_id = worker_id
        self.clock = clock
        self.lease_seconds = settings.lease_duration
        self.skew_warning = settings.clock_skew_warning
        self.state = state
        self.clock_offset: float | None = None  # seconds this host is ahead of the store
        self.skewed = False

    def tick(self) -> None:
        sent, started = self.clock.now(), time.monotonic()
        offset_ms = None if self.clock_offset is None else round(self.clock_offset * 1000)
        stored_at = self.store.heartbeat_worker(self.worker_id, None, self.state(), offset_ms)
        round_trip = time.monotonic() - started
        renewal_sent = time.monotonic()
        self.store.renew_leases(self.worker_id, self.lease_seconds)
        if self.leases is not None:
            self.leases.renewed(renewal_sent)
        self.read_orders()
        if stored_at is not None and round_trip <= _MAX_MEASURE_ROUND_TRIP_S:
            midway = sent + timedelta(seconds=round_trip / 2)
            self._measured((midway - stored_at).total_seconds())

    def read_orders(self) -> None:
        self.on_orders(self.store.worker_orders(self.worker_id))

    def _measured(self, offset: float) -> None:
        self.clock_offset = offset
        if self.leases is not None:
            self.leases.measured_offset(offset)
        skewed = abs(offset) > self.skew_warning
        if skewed and not self.skewed:
            log.warning(
                "this host's clock is %.1f s %s the database's (clock_skew_warning is %g s): "
                "leases follow the database's clock and are not affected, but times this host "
                "computes (schedules, delays) are off; check its time sync (NTP)",
                abs(offset),
                "ahead of" if offset > 0 else "behind",
                self.skew_warning,
            )
        elif self.skewed and not skewed:
            log.info("this host's clock is back within %g s of the database's", self.skew_warning)
        self.skewed = skewed


class OrdersListener(Looper):
    """Hears the operators' orders as they are given, where the store pushes them (PostgreSQL's
    NOTIFY): a cancel stops its job at once, not at the next heartbeat. The heartbeat still
    reads the orders at every beat, so a notification missed (a dropped connection) costs a
    beat, never an order."""

    name = "orders"
    # One wait's bound: how often a lost connection is tried again. A stopping worker does not
    # wait it out: ``stop`` wakes the wait with a notification of its own.
    WAIT_S = 1.0

    def __init__(self, store: Store, worker_id: str, read_orders: Callable[[], None]) -> None:
        super().__init__(0.0)
        self.store = store
        self.worker_id = worker_id
        self.read_orders = read_orders

    def tick(self) -> None:
        try:
            pushed = self.store.wait_for_orders(self.worker_id, self.WAIT_S)
        except JobDeckError:
            self.rest(self.WAIT_S)  # a lost server: look again in a while, not in a tight loop
            raise
        if pushed and not self.stopping:
            self.read_orders()

    def wake(self) -> None:
        # Without it every PostgreSQL worker's stop took up to WAIT_S longer. If the store is
        # lost the wait ends at its timeout anyway.
        with contextlib.suppress(JobDeckError):
            self.store.notify_orders(self.worker_id)


class Rescuer(Looper):
    """Retries jobs whose worker stopped renewing their lease (killed, frozen, host gone).

    Whether a lease is out is decided by the store's clock, never by this host's. The jobs of
    ``worker_id`` (the worker this rescuer runs in) are left alone: it knows they are alive,
    and after a store outage their leases may be out only because its heartbeat could not
    write; taking them would throw away results it is waiting to write.
    """

    name = "rescuer"

    def __init__(
        self,
        store: Store,
        settings: Settings,
        on_failed: Callable[[RescuedJob], None] | None = None,
        worker_id: str | None = None,
    ) -> None:
        super().__init__(settings.rescue_interval)
        self.store = store
        self.rescued = 0
        self.on_failed = on_failed
        self.worker_id = worker_id

    def tick(self) -> None:
        rescued = self.store.rescue_expired(skip_worker=self.worker_id)
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
        fold_before = (now - timedelta(hours=25)).replace(minute=0, second=0, microsecond=0)
        self.store.compact_stats(fold_before)
        self.compact_error_groups(now)

    # The Failures view's sparklines read the error-group rollup at each period's bucket size
    # (control.PERIODS): rows older than the shortest period that needs a finer bucket fold
    # into the next one, so a day reads a few hundred rows per group, not one a minute per
    # worker. (age, bucket seconds), finest first; each bucket divides the next, so a fold never
    # splits a row the next tier reads.
    ERROR_GROUP_TIERS = (
        (timedelta(hours=1), 300),
        (timedelta(hours=6), 900),
        (timedelta(hours=25), 3600),
        (timedelta(days=7), 21600),
    )

    def compact_error_groups(self, now: datetime) -> None:
        for age, bucket in self.ERROR_GROUP_TIERS:
            edge = int((now - age).timestamp())
            before = datetime.fromtimestamp(edge - edge % bucket, now.tzinfo)
            self.store.compact_error_groups(before, bucket)


class SearchIndexer(Looper):
    """Writes finished jobs' search text into the task list's search index, every few seconds
    in batches, those finished over ``SEARCH_LAG`` ago (see store/search.py).

    The index is written here and never on enqueue, claim or completion: keeping it in step
    with each insert cut SQLite's inserts to a tenth (docs/performance.md). Until it passes a
    job, the search's scan of the newest jobs finds it.
    """

    name = "search-indexer"
    BATCH = 2000
    # SQLite has one writer: a batch there is shorter and the rest after it three times as long
    # as the batch took. Resting only as long left a draining worker 6% of its rate while the
    # index caught up on a million jobs (docs/performance.md).
    SQLITE_BATCH = 500
    SQLITE_REST = 3.0

    def __init__(self, store: Store, interval: float = 5.0, batch: int | None = None) -> None:
        super().__init__(interval)
        self.store = store
        sqlite = store.dialect == "sqlite"
        self.batch = batch or (self.SQLITE_BATCH if sqlite else self.BATCH)
        self.rest_factor = self.SQLITE_REST if sqlite else 0.0
        self.indexed = 0

    def tick(self) -> None:
        while not self.stopping:
            started = time.perf_counter()
            done = self.store.index_search(self.batch)
            self.indexed += done
            if done < self.batch:
                return
            if self.rest_factor:
                self.rest(self.rest_factor * (time.perf_counter() - started))
