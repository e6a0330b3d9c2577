"""The worker: claims jobs up to its free slots, runs them, and shuts down without losing any."""

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
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from types import FrameType
from typing import TYPE_CHECKING, Any

from jobdeck._version import __version__
from jobdeck.alerts import EXHAUSTED, Alerter, AlertEvent
from jobdeck.errors import JobDeckError, PermanentFailure, SchemaError
from jobdeck.logs import job_context
from jobdeck.settings import Settings
from jobdeck.states import JobState
from jobdeck.store.base import ClaimedJob, ClaimRequest, Outcome, RescuedJob, WorkerInfo
from jobdeck.worker.completer import Completer
from jobdeck.worker.execution import (
    ChildFailed,
    RunningJob,
    decode_args,
    describe_timeout,
    error_line,
    failure_outcome,
    format_exception,
    run_in_child,
    success_outcome,
)
from jobdeck.worker.pools import EventLoopThread, ThreadSlots
from jobdeck.worker.services import Looper
from jobdeck.worker.upkeep import Heartbeat, Pruner, Rescuer, TimeoutWatch

if TYPE_CHECKING:
    from jobdeck.deck import Deck

log = logging.getLogger("jobdeck.worker")

# How long past its timeout an async task may take to end once cancelled before the timeout
# watch fails the attempt without it and gives its slot to other jobs.
ASYNC_CANCEL_GRACE = 1.0


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
        # By (job, attempt): a job rescued from this worker while it ran can be claimed here
        # again, and both attempts are in flight until the first one's result is fenced off.
        self._in_flight: dict[tuple[int, int], RunningJob] = {}
        self._lock = threading.Lock()
        self._slot_freed = threading.Event()
        self._stopping = threading.Event()
        self._hurry = threading.Event()
        self._started = threading.Event()
        self.completer = Completer(
            self.store,
            self.id,
            self.shard,
            settings.complete_batch_max,
            settings.complete_flush_interval,
            self._after_write,
        )
        self.alerter = Alerter(self.store, self.clock, settings)
        self._threads: ThreadSlots | None = None
        self._loop: EventLoopThread | None = None
        self._abandoned_coroutines: list[Future[None]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self, install_signals: bool = True) -> str:
        """Work until stopped; returns why it stopped ("stopped" or "restart")."""
        signals = None
        if install_signals and threading.current_thread() is threading.main_thread():
            # Before start(): a SIGTERM while it registers still means "drain", never a kill.
            signals = SignalWatch(self._on_signal)
        self.start()
        try:
            self._fetch_loop()
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
        self._threads = ThreadSlots(self.settings.concurrency)
        if any(t.executor == "async" for t in self.deck.tasks.values()):
            self._loop = EventLoopThread()
        self.completer.start()
        self.heartbeat = Heartbeat(self.store, self.id, self.clock, self.settings, self._state)
        self.rescuer = Rescuer(self.store, self.settings, self._rescued_as_failed, self.id)
        self.services = [
            self.heartbeat,
            self.rescuer,
            TimeoutWatch(self._expire_timeouts),
            Pruner(self.store, self.clock, self.settings),
        ]
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
            self._slot_freed.set()
            # If this fails the fetch loop still wakes on its poll interval.
            with contextlib.suppress(JobDeckError):
                self.store.notify_jobs()

    def wait_started(self, timeout: float = 10.0) -> bool:
        return self._started.wait(timeout)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def _state(self) -> str:
        return "stopping" if self._stopping.is_set() else "running"

    def _on_signal(self, signum: int) -> None:
        already = self._stopping.is_set()
        log.info(
            "received %s: %s",
            signal.Signals(signum).name,
            "stopping now" if already else "draining (send again to stop at once)",
        )
        self.stop(hurry=already)

    # -- fetching ----------------------------------------------------------------------------

    def _fetch_loop(self) -> None:
        backoff = 0.0
        failing = False
        while not self._stopping.is_set():
            free = self.settings.concurrency - self.in_flight
            if free <= 0:
                # Never claim more than we can start: a claimed job waiting in our memory is a
                # job another worker could be running.
                self._slot_freed.wait(self.settings.poll_interval)
                self._slot_freed.clear()
                continue
            limit = min(free, self.settings.fetch_batch_max)
            try:
                jobs = self._claim(limit)
                if failing:
                    log.info("fetcher: store is back, claiming jobs again")
                failing, backoff = False, 0.0
            except SchemaError:
                raise
            except Exception as exc:
                # A store that fails (full disk, I/O error, lost server) is waited out, not died
                # of: the jobs running here finish and their results wait in the completer.
                if not failing:
                    if isinstance(exc, JobDeckError):
                        log.warning("fetcher: %s (will keep retrying)", exc)
                    else:
                        log.exception("fetcher: unexpected error (will keep retrying)")
                failing, backoff = True, min(max(backoff * 2, 0.2), 5.0)
                self._stopping.wait(backoff)
                continue
            for job in jobs:
                self._dispatch(job)
            if len(jobs) < limit:
                self._wait_for_work()

    def _claim(self, limit: int) -> list[ClaimedJob]:
        # No time of ours in the request: the store stamps the claim and its lease with its own
        # clock as it writes them (see ClaimRequest).
        return self.store.claim_jobs(
            ClaimRequest(self.id, self.settings.queues, limit, self.settings.lease_duration)
        )

    def _wait_for_work(self) -> None:
        try:
            self.store.wait_for_jobs(self.settings.poll_interval)
        except Exception:  # the claim that follows reports a store that is down
            self._stopping.wait(self.settings.poll_interval)

    # -- running -----------------------------------------------------------------------------

    def _dispatch(self, job: ClaimedJob) -> None:
        task = self.deck.tasks.get(job.task)
        running = RunningJob(job, task)
        with self._lock:
            self._in_flight[job.id, job.attempt] = running
        if task is None:
            known = ", ".join(sorted(self.deck.tasks)) or "none"
            message = (
                f"UnknownTask: this worker has no task named {job.task!r} "
                f"(it knows: {known}); is the task registered in the worker's --app?"
            )
            self._finish(
                running, failure_outcome(job, message, None, running.now(), self.settings, None)
            )
            return
        assert self._threads is not None
        if task.executor == "async" and self._loop is not None:
            if job.timeout:
                # asyncio.wait_for cancels the coroutine at its timeout; this deadline is for one
                # that swallows the cancellation (or blocks the loop): the watch then fails the
                # attempt and frees the slot, as it does for a stuck thread.
                running.deadline = running.began + job.timeout + ASYNC_CANCEL_GRACE
            running.future = self._loop.submit(self._run_async(running))
        elif task.executor == "process":
            self._threads.submit(lambda: self._run_process(running))
        else:
            self._threads.submit(lambda: self._run_thread(running))

    def _run_thread(self, running: RunningJob) -> None:
        task = running.task
        assert task is not None
        timeout = running.job.timeout
        running.thread_ident = threading.get_ident()
        if timeout:
            running.deadline = time.monotonic() + timeout
        with self._job_logs(running):
            try:
                value = task.fn(**decode_args(running.job))
                outcome = success_outcome(running.job, value, running.now(), self.settings, task)
            except Exception as exc:
                outcome = self._failure(running, exc)
        self._finish(running, outcome)

    def _job_logs(self, running: RunningJob) -> AbstractContextManager[None]:
        """Tag the log lines of a running job (the task's own too) with the job and worker."""
        job = running.job
        return job_context(
            job_id=job.id, task=job.task, attempt=job.attempt, queue=job.queue, worker_id=self.id
        )

    async def _run_async(self, running: RunningJob) -> None:
        task = running.task
        assert task is not None
        timeout = running.job.timeout
        # Each coroutine runs in its own asyncio task, so this context is its job's alone.
        with self._job_logs(running):
            try:
                call = task.fn(**decode_args(running.job))
                value = await _wait_for(call, timeout) if timeout else await call
                outcome = success_outcome(running.job, value, running.now(), self.settings, task)
            except TimeoutError as exc:
                if timeout and running.elapsed() >= timeout * 0.99:
                    outcome = self._failure_text(
                        running, f"TimeoutError: {describe_timeout(timeout)}", format_exception(exc)
                    )
                else:
                    outcome = self._failure(running, exc)
            except Exception as exc:
                outcome = self._failure(running, exc)
        self._finish(running, outcome)

    def _run_process(self, running: RunningJob) -> None:
        task = running.task
        assert task is not None
        with self._job_logs(running):
            try:
                value = run_in_child(task, decode_args(running.job), running.job.timeout)
                outcome = success_outcome(running.job, value, running.now(), self.settings, task)
            except TimeoutError as exc:
                outcome = self._failure_text(running, f"TimeoutError: {exc}", None)
            except ChildFailed as exc:
                outcome = self._failure_text(running, str(exc), exc.trace)
            except Exception as exc:
                outcome = self._failure(running, exc)
        self._finish(running, outcome)

    def _failure(self, running: RunningJob, exc: BaseException) -> Outcome:
        final = isinstance(exc, PermanentFailure)  # the task says retrying cannot help
        return self._failure_text(running, error_line(exc), format_exception(exc), final)

    def _failure_text(
        self, running: RunningJob, error: str, trace: str | None, final: bool = False
    ) -> Outcome:
        log.warning(
            "job %s (%s) attempt %d failed: %s",
            running.job.id,
            running.job.task,
            running.job.attempt,
            error,
        )
        return failure_outcome(
            running.job, error, trace, running.now(), self.settings, running.task, final
        )

    def _finish(self, running: RunningJob, outcome: Outcome) -> None:
        with self._lock:
            key = (running.job.id, running.job.attempt)
            if self._in_flight.get(key) is not running:
                return  # timed out or handed back meanwhile: its slot and outcome are settled
            del self._in_flight[key]
        self.completer.add(outcome)
        self._slot_freed.set()

    def _expire_timeouts(self, now_monotonic: float) -> None:
        with self._lock:
            expired = [
                r
                for r in self._in_flight.values()
                if r.deadline is not None and r.deadline <= now_monotonic
            ]
            for running in expired:
                del self._in_flight[running.job.id, running.job.attempt]
                running.abandoned = True
        for running in expired:
            timeout = running.job.timeout or 0
            self.completer.add(
                self._failure_text(running, f"TimeoutError: {describe_timeout(timeout)}", None)
            )
            if running.thread_ident is not None and self._threads is not None:
                self._threads.abandon(running.thread_ident)
            if running.future is not None:
                log.warning(
                    "job %s (%s) attempt %d: its coroutine did not end when cancelled at its "
                    "timeout; it is left on the event loop and its slot is given to other jobs",
                    running.job.id,
                    running.job.task,
                    running.job.attempt,
                )
                self._abandoned_coroutines.append(running.future)
            self._slot_freed.set()
        self._restart_if_threads_pile_up()

    def _restart_if_threads_pile_up(self) -> None:
        if self._threads is None or self._stopping.is_set():
            return
        self._abandoned_coroutines = [f for f in self._abandoned_coroutines if not f.done()]
        stuck = self._threads.abandoned_count + len(self._abandoned_coroutines)
        if stuck > self.settings.max_abandoned_threads:
            log.warning(
                "%d threads or coroutines are stuck in timed-out jobs: restarting the worker "
                "gracefully",
                stuck,
            )
            self.exit_reason = "restart"
            self.stop()

    def _after_write(self, outcomes: list[Outcome], applied: list[int]) -> None:
        """Report results the store fenced off; alert once per job that used its last attempt
        (fencing makes "once" hold)."""
        done = set(applied)
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
        grace = self.settings.shutdown_grace
        deadline = time.monotonic() + grace
        if self.in_flight:
            log.info("draining: waiting up to %gs for %d running jobs", grace, self.in_flight)
        while self.in_flight and time.monotonic() < deadline and not self._hurry.is_set():
            self._slot_freed.wait(0.05)
            self._slot_freed.clear()
        self._hand_back_unfinished()
        self.completer.stop()
        for service in self.services:
            service.stop()
        self.alerter.flush(5.0)
        try:
            self.store.deregister_worker(self.id)
        except JobDeckError as exc:
            log.warning("could not mark worker stopped: %s", exc)
        if self._loop is not None:
            self._loop.stop()
        if self._threads is not None:
            self._threads.shutdown()
        log.info("worker %s stopped (%s)", self.id, self.exit_reason)

    def _hand_back_unfinished(self) -> None:
        with self._lock:
            unfinished = list(self._in_flight.values())
            self._in_flight.clear()
        if not unfinished:
            return
        for running in unfinished:
            running.abandoned = True
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


async def _wait_for(call: Any, timeout: float) -> Any:
    import asyncio  # already loaded: this runs on the worker's event loop

    return await asyncio.wait_for(call, timeout)


class SignalWatch:
    """SIGTERM and SIGINT handled on a thread of their own.

    A Python signal handler runs on the main thread between two of its bytecodes, maybe
    while that thread holds a lock that stopping needs (the store's wake-up channel, an
    Event's condition): calling ``stop`` there can deadlock. So the handler only writes the
    signal's number to a pipe, and this thread reads it and calls ``on_signal``.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, on_signal: Callable[[int], None]) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._on_signal = on_signal
        self._thread = threading.Thread(target=self._watch, name="jobdeck-signals", daemon=True)
        self._thread.start()
        self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):  # a full pipe: a signal is already pending
            os.write(self._write, bytes([signum]))

    def _watch(self) -> None:
        while data := os.read(self._read, 1):
            self._on_signal(data[0])
        os.close(self._read)

    def close(self) -> None:
        """Give the signals back, then end the thread (EOF on the pipe)."""
        for sig, previous in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)
        os.close(self._write)
        self._thread.join(5)
