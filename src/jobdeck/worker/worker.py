"""The worker: one lifecycle for its services (the fetcher, the executors, the completer, the
upkeep loops and the scheduler loop); it shuts down without losing a job."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
import zlib
from typing import TYPE_CHECKING

from jobdeck._version import __version__
from jobdeck.alerts import EXHAUSTED, Alerter, AlertEvent
from jobdeck.errors import JobDeckError
from jobdeck.running import capture_task_logging, release_task_logging
from jobdeck.settings import Settings
from jobdeck.states import JobState
from jobdeck.store.base import Outcome, RescuedJob, WorkerInfo, WorkerOrders
from jobdeck.tasks import claim_limits
from jobdeck.worker.completer import Completer
from jobdeck.worker.execution import cancelled_outcome
from jobdeck.worker.executors import Executors
from jobdeck.worker.fetcher import Fetcher
from jobdeck.worker.leases import Leases
from jobdeck.worker.pacing import ClaimPacing, claim_ahead_cap
from jobdeck.worker.reports import ReportBuffer, ReportFlusher
from jobdeck.worker.services import Looper
from jobdeck.worker.signals import SignalWatch
from jobdeck.worker.upkeep import (
    Heartbeat,
    OrdersListener,
    Pruner,
    Rescuer,
    SearchIndexer,
    TimeoutWatch,
)

if TYPE_CHECKING:
    from jobdeck.deck import Deck
    from jobdeck.worker.metrics import WorkerMetrics

log = logging.getLogger("jobdeck.worker")


class Worker:
    """Runs the jobs of a deck's queues. ``run()`` blocks until SIGTERM/SIGINT or ``stop()``."""

    def __init__(self, deck: Deck, settings: Settings, name: str | None = None) -> None:
        self.deck = deck
        self.settings = settings
        self.store = deck.store
        self.clock = deck.clock
        # The host this worker reports: the machine's name unless told (containers and network
        # namespaces often share one). The id starts with it: host:pid:random.
        self.host = name or socket.gethostname()
        self.id = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.shard = settings.stats_shard or (zlib.crc32(self.id.encode()) % 1000 + 1)
        self.exit_reason = "stopped"
        self.services: list[Looper] = []
        self._stopping = threading.Event()
        self._hurry = threading.Event()
        self._started = threading.Event()
        # An operator asked this worker to drain and stop: its running jobs finish, however
        # long the grace period is.
        self._stop_requested = False
        self.metrics = self._metrics() if settings.metrics_port is not None else None
        store_error = self.metrics.store_errors.inc if self.metrics else lambda: None
        self.completer = Completer(
            self.store,
            self.id,
            self.shard,
            settings.complete_batch_max,
            settings.complete_flush_interval,
            self._after_write,
            store_error,
        )
        self.alerter = Alerter(self.store, self.clock, settings)
        self.reports = ReportBuffer()
        # On a remote store this worker can lose sight of the database while others keep it:
        # it then stops its jobs before their leases run out (see worker/leases.py).
        self.leases = (
            Leases(settings.lease_duration, settings.heartbeat_interval)
            if self.store.remote
            else None
        )
        self.pacing = ClaimPacing(settings.concurrency, claim_ahead_cap(settings))
        self.executors = Executors(
            deck.tasks,
            settings,
            self.id,
            self.completer,
            self.reports,
            self._labels_of,
            self.leases,
            self.pacing,
        )
        limits = claim_limits(deck.tasks.values(), settings.queue_limits or {})
        self.fetcher = Fetcher(
            self.store,
            settings,
            self.id,
            self.executors,
            self._stopping,
            store_error,
            limits=limits or None,
            leases=self.leases,
            pacing=self.pacing,
        )
        # The heartbeat and, on a remote store, the orders listener both hand orders in.
        self._obeying = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self, install_signals: bool = True) -> str:
        """Work until stopped; returns why it stopped ("stopped" or "restart")."""
        signals = None
        if install_signals and threading.current_thread() is threading.main_thread():
            # Before start(): a SIGTERM while it registers still means "drain", never a kill.
            signals = SignalWatch(self._on_signal)
        self.start()
        try:
            self.fetcher.run()
        finally:
            self._drain()
            if signals is not None:
                signals.close()
        return self.exit_reason

    def start(self) -> None:
        """Check the schema, register, and start the background services (not the fetch loop)."""
        self.store.check_schema()
        now = self.clock.now()
        self.store.register_worker(
            WorkerInfo(
                self.id,
                self.host,
                os.getpid(),
                list(self.settings.queues),
                self.settings.concurrency,
                now,
                now,
                "running",
                __version__,
            )
        )
        # Before the first claim: a worker that starts while a queue is paused claims none of it.
        self._obey(self.store.worker_orders(self.id))
        self.executors.start()
        if self.metrics is not None:
            self.metrics.serve()
            log.info("worker metrics on http://%s:%d/metrics", *self.metrics.address)
        self.completer.start()
        self.heartbeat = Heartbeat(
            self.store, self.id, self.clock, self.settings, self._state, self._obey, self.leases
        )
        self.rescuer = Rescuer(self.store, self.settings, self._rescued_as_failed, self.id)
        self.services = [
            self.heartbeat,
            self.rescuer,
            TimeoutWatch(self._expire_timeouts),
            Pruner(self.store, self.clock, self.settings),
            SearchIndexer(self.store),
            ReportFlusher(self.store, self.reports, self.settings.report_flush_interval),
        ]
        if self.store.remote:
            self.services.append(OrdersListener(self.store, self.id, self.heartbeat.read_orders))
        # Log records tasks emit while they run become their job's log lines.
        capture_task_logging()
        if self.settings.scheduler_enabled and self.deck.schedules:
            from jobdeck.worker.scheduler import Scheduler

            self.services.append(Scheduler(self.deck, self.alerter))
        for service in self.services:
            service.start()
        self._started.set()
        log.info(
            "worker %s started: queues=%s concurrency=%d tasks=%d",
            self.id,
            ",".join(self.settings.queues),
            self.settings.concurrency,
            len(self.deck.tasks),
        )

    def stop(self, hurry: bool = False) -> None:
        """Stop claiming now; in-flight jobs get the grace period (none if ``hurry``)."""
        if hurry:
            self._hurry.set()
        if not self._stopping.is_set():
            self._stopping.set()
            self.executors.slot_freed.set()
            # If this fails the fetch loop still wakes on its poll interval.
            with contextlib.suppress(JobDeckError):
                self.store.notify_jobs()

    def wait_started(self, timeout: float = 10.0) -> bool:
        return self._started.wait(timeout)

    @property
    def in_flight(self) -> int:
        return self.executors.in_flight

    def _state(self) -> str:
        return "stopping" if self._stopping.is_set() else "running"

    def _obey(self, orders: WorkerOrders) -> None:
        """Follow the operators' orders the heartbeat read: claim only from queues not paused,
        stop the running jobs they cancelled, and drain and stop when asked."""
        with self._obeying:
            self._follow(orders)

    def _follow(self, orders: WorkerOrders) -> None:
        claimable = tuple(q for q in self.settings.queues if q not in orders.paused_queues)
        if claimable != self.fetcher.queues:
            paused = [q for q in self.settings.queues if q in orders.paused_queues]
            resumed = set(claimable) - set(self.fetcher.queues)
            self.fetcher.queues = claimable
            # Logged once followed, so a reader of the log never sees a pause not yet obeyed.
            log.info(
                "claiming from %s; paused: %s",
                ",".join(claimable) or "none",
                ",".join(paused) or "none",
            )
            if resumed:  # wake a fetcher waiting for jobs, so it claims at once
                with contextlib.suppress(JobDeckError):
                    self.store.notify_jobs()
        self.executors.cancel(orders.cancelled_jobs)
        if orders.stop_requested and not self._stopping.is_set():
            log.info("asked to drain and stop: finishing %d running jobs", self.in_flight)
            self._stop_requested = True
            self.stop()

    def _on_signal(self, signum: int) -> None:
        already = self._stopping.is_set()
        log.info(
            "received %s: %s",
            signal.Signals(signum).name,
            "stopping now" if already else "draining (send again to stop at once)",
        )
        self.stop(hurry=already)

    def _labels_of(self, job_id: int) -> dict[str, str]:
        job = self.store.get_job(job_id)
        return {} if job is None else job.labels

    def _metrics(self) -> WorkerMetrics:
        from jobdeck.worker.metrics import WorkerMetrics

        return WorkerMetrics(self.settings, self.id, self.host, __version__, lambda: self.in_flight)

    def _expire_timeouts(self, now_monotonic: float) -> None:
        self.executors.expire_timeouts(now_monotonic)
        self.executors.stop_lost_leases(now_monotonic)
        self._restart_if_threads_pile_up()

    def _restart_if_threads_pile_up(self) -> None:
        if self._stopping.is_set():
            return
        stuck = self.executors.stuck
        if stuck > self.settings.max_abandoned_threads:
            log.warning(
                "%d threads or coroutines are stuck in timed-out jobs: restarting the worker "
                "gracefully",
                stuck,
            )
            self.exit_reason = "restart"
            self.stop()

    # -- results -----------------------------------------------------------------------------

    def _after_write(self, outcomes: list[Outcome], applied: list[int]) -> None:
        """Report results the store fenced off; alert once per job that used its last attempt
        (fencing makes "once" hold)."""
        done = set(applied)
        if self.metrics is not None:
            self.metrics.finished(outcomes, done)
        for outcome in outcomes:
            if outcome.job_id not in done:
                log.warning(
                    "job %s (%s) attempt %d: lease lost, its result was not recorded (the job "
                    "was rescued from this worker, or handed back, before the result was written)",
                    outcome.job_id,
                    outcome.task,
                    outcome.attempt,
                )
            if outcome.job_id in done and outcome.next_state == JobState.FAILED and outcome.alert:
                self._alert_exhausted(outcome.job_id, outcome.task, outcome.attempt, outcome.error)

    def _rescued_as_failed(self, job: RescuedJob) -> None:
        self._alert_exhausted(job.id, job.task, job.attempt, "worker lost (lease expired)")

    def _alert_exhausted(self, job_id: int, task: str, attempts: int, error: str | None) -> None:
        message = f"{task} job {job_id} failed after {attempts} attempts: {error}"
        details = {"job_id": job_id, "task": task, "attempts": attempts, "error": error}
        try:
            self.alerter.emit(AlertEvent(EXHAUSTED, f"job {job_id}", message, details))
        except JobDeckError as exc:
            log.warning("could not record alert for job %d: %s", job_id, exc)

    # -- shutdown ----------------------------------------------------------------------------

    def _drain(self) -> None:
        grace = float("inf") if self._stop_requested else self.settings.shutdown_grace
        deadline = time.monotonic() + grace
        if self.in_flight and self._stop_requested:
            log.info("draining: waiting for %d running jobs to finish", self.in_flight)
        elif self.in_flight:
            log.info("draining: waiting up to %gs for %d running jobs", grace, self.in_flight)
        while self.in_flight and time.monotonic() < deadline and not self._hurry.is_set():
            self.executors.wait_for_slot(0.05)
        self._hand_back_unfinished()
        self.completer.stop()
        for service in self.services:
            service.stop()
        release_task_logging()
        self.alerter.flush(5.0)
        try:
            self.store.deregister_worker(self.id)
        except JobDeckError as exc:
            log.warning("could not mark worker stopped: %s", exc)
        self.executors.stop()
        if self.metrics is not None:
            self.metrics.close()
        log.info("worker %s stopped (%s)", self.id, self.exit_reason)

    def _hand_back_unfinished(self) -> None:
        unfinished = self.executors.take_unfinished()
        # A job an operator cancelled that is still stopping ends cancelled, not back in the
        # queue (the completer writes it before it stops).
        for running in unfinished:
            if running.cancelled_by is not None:
                self.completer.add(
                    cancelled_outcome(running.job, running.cancelled_by, running.now())
                )
        unfinished = [r for r in unfinished if r.cancelled_by is None]
        if not unfinished:
            return
        pairs = [(r.job.id, r.job.attempt) for r in unfinished]
        try:
            handed = self.store.hand_back_jobs(self.id, pairs)
            log.info("handed %d unfinished jobs back to the queue", handed)
        except JobDeckError as exc:
            log.warning(
                "could not hand back %d jobs (%s): they will be rescued when their lease expires",
                len(pairs),
                exc,
            )
