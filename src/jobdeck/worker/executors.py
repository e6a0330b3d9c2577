"""Runs claimed jobs in their executor (a thread slot, the event loop, a child process) and
keeps the in-flight table, which is the worker's slots: a job holds one from claim to result.

A result goes to the completer; a job past its deadline is failed here and its slot given to
other jobs even if its thread or coroutine never ends (the watch calls ``expire_timeouts``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from jobdeck import tracing
from jobdeck.errors import PermanentFailure
from jobdeck.logs import bind_job_fields, unbind_job_fields
from jobdeck.running import CurrentJob, enter_job, leave_job
from jobdeck.settings import Settings
from jobdeck.store.base import ClaimedJob, Outcome
from jobdeck.worker.completer import Completer
from jobdeck.worker.execution import (
    ChildCancelled,
    ChildFailed,
    RunningJob,
    cancelled_outcome,
    decode_args,
    describe_timeout,
    error_line,
    failure_outcome,
    format_exception,
    run_in_child,
    success_outcome,
)
from jobdeck.worker.leases import Leases
from jobdeck.worker.pacing import ClaimPacing
from jobdeck.worker.pools import EventLoopThread, ThreadSlots
from jobdeck.worker.reports import ReportBuffer

if TYPE_CHECKING:
    import asyncio

    from jobdeck.tasks import Task

log = logging.getLogger("jobdeck.worker")

# How long past its timeout an async task may take to end once cancelled before the timeout
# watch fails the attempt without it and gives its slot to other jobs.
ASYNC_CANCEL_GRACE = 1.0


class Executors:
    def __init__(
        self,
        tasks: dict[str, Task[..., Any]],
        settings: Settings,
        worker_id: str,
        completer: Completer,
        reports: ReportBuffer | None = None,
        read_labels: Callable[[int], Mapping[str, str]] = lambda _: {},
        leases: Leases | None = None,
        pacing: ClaimPacing | None = None,
    ) -> None:
        self.tasks = tasks
        self.settings = settings
        self.worker_id = worker_id
        self.completer = completer
        self.reports = reports or ReportBuffer()
        self.read_labels = read_labels
        self.leases = leases
        self.pacing = pacing or ClaimPacing(settings.concurrency, 0)
        # Async tasks have no thread slot to wait for: with jobs claimed ahead, this keeps
        # ``concurrency`` of them running at once (made on the loop, at its first use).
        self._async_slots: asyncio.Semaphore | None = None
        # By (job, attempt): a job rescued from this worker while it ran can be claimed here
        # again, and both attempts are in flight until the first one's result is fenced off.
        self._in_flight: dict[tuple[int, int], RunningJob] = {}
        self._lock = threading.Lock()
        self.slot_freed = threading.Event()
        self._threads: ThreadSlots | None = None
        self._loop: EventLoopThread | None = None
        self._abandoned_coroutines: list[Future[None]] = []

    def start(self) -> None:
        self._threads = ThreadSlots(self.settings.concurrency)
        if any(t.executor == "async" for t in self.tasks.values()):
            self._loop = EventLoopThread()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
        if self._threads is not None:
            self._threads.shutdown()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def wait_for_slot(self, timeout: float) -> None:
        self.slot_freed.wait(timeout)
        self.slot_freed.clear()

    @property
    def stuck(self) -> int:
        """Threads and coroutines still busy in jobs that timed out."""
        if self._threads is None:
            return 0
        self._abandoned_coroutines = [f for f in self._abandoned_coroutines if not f.done()]
        return self._threads.abandoned_count + len(self._abandoned_coroutines)

    def take_unfinished(self) -> list[RunningJob]:
        """Empty the table at shutdown: these jobs' results will no longer be recorded."""
        with self._lock:
            unfinished = list(self._in_flight.values())
            self._in_flight.clear()
        for running in unfinished:
            running.abandoned = True
        return unfinished

    # -- dispatching -------------------------------------------------------------------------

    def dispatch(self, job: ClaimedJob, claimed_from: float | None = None) -> None:
        task = self.tasks.get(job.task)
        running = RunningJob(job, task, make_context=self._context_of, claimed_from=claimed_from)
        with self._lock:
            self._in_flight[job.id, job.attempt] = running
        if task is None:
            known = ", ".join(sorted(self.tasks)) or "none"
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
            running.future = self._loop.submit(self._run_async(running))
        elif task.executor == "process":
            running.cancel_event = threading.Event()
            self._threads.submit(lambda: self._run_process(running))
        else:
            self._threads.submit(lambda: self._run_thread(running))

    def _context_of(self, running: RunningJob) -> CurrentJob:
        job = running.job
        if job.labels_json != "{}":  # the claim read them (tracing): no second read
            labels = json.loads(job.labels_json)
            read = lambda: labels  # noqa: E731
        else:
            read = lambda: self.read_labels(job.id)  # noqa: E731
        return CurrentJob(
            job.id, job.attempt, job.task, read, self.reports, self.settings.job_log_lines
        )

    def _run_thread(self, running: RunningJob) -> None:
        task = running.task
        assert task is not None
        timeout = running.job.timeout
        if self._settled_before_start(running):
            return
        running.thread_ident = threading.get_ident()
        running.started = time.monotonic()
        if timeout and running.cancelled_by is None:  # a cancel's grace is shorter
            running.deadline = time.monotonic() + timeout
        with self._job_logs(running):
            try:
                value = task.fn(**decode_args(running.job))
                outcome = success_outcome(running.job, value, running.now(), self.settings, task)
            except Exception as exc:
                outcome = self._failure(running, exc)
        self._finish(running, outcome)

    def _settled_before_start(self, running: RunningJob) -> bool:
        """A job claimed ahead may be settled while it waits for a slot: given up on (its lease
        lost, the worker shutting down: another worker may run it now), it must not start; a
        cancelled one ends cancelled without running."""
        if running.abandoned:
            return True
        if running.cancelled_by is None:
            return False
        self._finish(running, cancelled_outcome(running.job, running.cancelled_by, running.now()))
        return True

    def _job_logs(self, running: RunningJob) -> JobScope:
        return JobScope(running, self.worker_id, tracing.active(self.settings.tracing))

    async def _run_async(self, running: RunningJob) -> None:
        if self._async_slots is None:
            import asyncio

            self._async_slots = asyncio.Semaphore(self.settings.concurrency)
        async with self._async_slots:
            await self._run_async_in_slot(running)

    async def _run_async_in_slot(self, running: RunningJob) -> None:
        task = running.task
        assert task is not None
        timeout = running.job.timeout
        if self._settled_before_start(running):
            return
        if timeout and running.cancelled_by is None:  # a cancel's grace is shorter
            # asyncio.wait_for cancels the coroutine at its timeout; this deadline is for one
            # that swallows the cancellation (or blocks the loop): the watch then fails the
            # attempt and frees the slot, as it does for a stuck thread.
            running.deadline = time.monotonic() + timeout + ASYNC_CANCEL_GRACE
        running.started = time.monotonic()
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
            except BaseException:
                # An operator's cancel reaches the coroutine as CancelledError: the attempt
                # ends cancelled (_finish says so). Any other cancellation is the worker's own.
                if running.cancelled_by is None:
                    raise
                outcome = self._failure_text(running, "cancelled", None)
        self._finish(running, outcome)

    def _run_process(self, running: RunningJob) -> None:
        task = running.task
        assert task is not None
        if self._settled_before_start(running):
            return
        running.started = time.monotonic()
        with self._job_logs(running):
            try:
                value = run_in_child(
                    task,
                    decode_args(running.job),
                    running.job.timeout,
                    running.cancel_event,
                )
                outcome = success_outcome(running.job, value, running.now(), self.settings, task)
            except TimeoutError as exc:
                outcome = self._failure_text(running, f"TimeoutError: {exc}", None)
            except ChildFailed as exc:
                outcome = self._failure_text(running, str(exc), exc.trace)
            except ChildCancelled as exc:
                outcome = self._failure_text(running, str(exc), None)
            except Exception as exc:
                outcome = self._failure(running, exc)
        self._finish(running, outcome)

    def _failure(self, running: RunningJob, exc: BaseException) -> Outcome:
        final = isinstance(exc, PermanentFailure)  # the task says retrying cannot help
        return self._failure_text(running, error_line(exc), format_exception(exc), final, exc)

    def _failure_text(
        self,
        running: RunningJob,
        error: str,
        trace: str | None,
        final: bool = False,
        exc: BaseException | None = None,
    ) -> Outcome:
        if running.cancelled_by is not None:  # stopped as asked: not a failure to warn about
            return cancelled_outcome(running.job, running.cancelled_by, running.now())
        if running.span is not None:
            tracing.record_failure(running.span, error, exc)
        outcome = failure_outcome(
            running.job, error, trace, running.now(), self.settings, running.task, final
        )
        # The stored text, not the raw one: a lone surrogate or a NUL in an exception's message
        # would make a strict log handler (a file, a JSON sink) fail on the line.
        log.warning(
            "job %s (%s) attempt %d failed: %s",
            running.job.id,
            running.job.task,
            running.job.attempt,
            outcome.error,
        )
        return outcome

    def _finish(self, running: RunningJob, outcome: Outcome) -> None:
        with self._lock:
            key = (running.job.id, running.job.attempt)
            if self._in_flight.get(key) is not running:
                return  # timed out or handed back meanwhile: its slot and outcome are settled
            del self._in_flight[key]
        if running.started is not None:
            self.pacing.ran(time.monotonic() - running.started)
        if running.cancelled_by is not None:
            # However the task ended once cancelled (JobCancelled, a return, a terminated
            # child), the operator's cancel is what the attempt records: never retried.
            outcome = cancelled_outcome(running.job, running.cancelled_by, running.now())
        self.completer.add(outcome)
        self.slot_freed.set()

    # -- cancelling --------------------------------------------------------------------------

    def cancel(self, orders: Mapping[tuple[int, int], str]) -> None:
        """Stop the running jobs operators cancelled (read at the heartbeat): an async task is
        cancelled, a process task's child terminated, a thread task told (its
        ``current_job().cancelled``). One that has not stopped within ``cancel_grace`` is
        left behind by the timeout watch and its attempt ends cancelled."""
        if not orders:
            return
        grace_end = time.monotonic() + self.settings.cancel_grace
        with self._lock:
            to_stop = [
                r for key, r in self._in_flight.items() if key in orders and r.cancelled_by is None
            ]
            for running in to_stop:
                running.cancelled_by = orders[running.job.id, running.job.attempt]  # taken
                running.deadline = min(running.deadline or grace_end, grace_end)
        for running in to_stop:
            log.info(
                "job %s (%s) attempt %d: cancelled by %s, stopping it",
                running.job.id,
                running.job.task,
                running.job.attempt,
                running.cancelled_by,
            )
            running.cancel(orders[running.job.id, running.job.attempt])
            if running.future is not None:
                running.future.cancel()  # thread-safe: the loop cancels the coroutine's task

    # -- timeouts ----------------------------------------------------------------------------

    def expire_timeouts(self, now_monotonic: float) -> None:
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
            self.completer.add(self._expired_outcome(running))
            if running.thread_ident is not None and self._threads is not None:
                self._threads.abandon(running.thread_ident)
            if running.future is not None:
                log.warning(
                    "job %s (%s) attempt %d: its coroutine did not end when cancelled; it is "
                    "left on the event loop and its slot is given to other jobs",
                    running.job.id,
                    running.job.task,
                    running.job.attempt,
                )
                self._abandoned_coroutines.append(running.future)
            self.slot_freed.set()

    # -- leases ------------------------------------------------------------------------------

    def stop_lost_leases(self, now_monotonic: float) -> None:
        """Stop the jobs whose lease this worker could not renew in time, before another
        worker's rescuer may take them: their attempts end failed (and are retried by their
        policy), and their slots go to other jobs. A thread task is told, as by a cancel; if
        it runs on regardless, its thread is given up on, as a timed-out one is."""
        leases = self.leases
        if leases is None:
            return
        with self._lock:
            lost = [
                r
                for r in self._in_flight.values()
                if r.claimed_from is not None and now_monotonic >= leases.stop_by(r.claimed_from)
            ]
            for running in lost:
                del self._in_flight[running.job.id, running.job.attempt]
                running.abandoned = True
        for running in lost:
            self._stop_unleased(running, now_monotonic)
        if lost:
            self.slot_freed.set()

    def _stop_unleased(self, running: RunningJob, now_monotonic: float) -> None:
        assert self.leases is not None and running.claimed_from is not None
        unrenewed = now_monotonic - self.leases.dated_from(running.claimed_from)
        error = (
            f"LeaseNotRenewed: stopped after {unrenewed:.1f} s without reaching the database to "
            f"renew its lease ({self.leases.duration:g} s), before another worker could take it"
        )
        log.warning(
            "job %s (%s) attempt %d: %s",
            running.job.id,
            running.job.task,
            running.job.attempt,
            error,
        )
        self.completer.add(
            failure_outcome(
                running.job, error, None, running.now(), self.settings, running.task, False
            )
        )
        running.stop("the worker, whose lease on the job ran out")
        if running.thread_ident is not None and self._threads is not None:
            self._threads.abandon(running.thread_ident)

    def _expired_outcome(self, running: RunningJob) -> Outcome:
        if running.cancelled_by is not None:
            log.warning(
                "job %s (%s) attempt %d did not stop within cancel_grace (%g s) of its cancel: "
                "it is left behind and its slot given to other jobs",
                running.job.id,
                running.job.task,
                running.job.attempt,
                self.settings.cancel_grace,
            )
            return cancelled_outcome(running.job, running.cancelled_by, running.now())
        timeout = running.job.timeout or 0
        return self._failure_text(running, f"TimeoutError: {describe_timeout(timeout)}", None)


async def _wait_for(call: Any, timeout: float) -> Any:
    import asyncio  # already loaded: this runs on the worker's event loop

    return await asyncio.wait_for(call, timeout)


class JobScope:
    """The block a job's code runs in: its log lines (the task's own too) are tagged with the
    job and worker, ``jobdeck.current_job()`` is the job, and it is traced when the
    application traces (its spans become the job's children).

    A class rather than a generator context manager: it is entered once per job, and the two
    generator blocks it replaced cost 2.7 us of a no-op job's 23 (issue 20)."""

    __slots__ = ("_fields", "_fields_token", "_job_token", "_running", "_span", "_traced")

    def __init__(self, running: RunningJob, worker_id: str, traced: bool) -> None:
        job = running.job
        self._running = running
        self._fields = {
            "job_id": job.id,
            "task": job.task,
            "attempt": job.attempt,
            "queue": job.queue,
            "worker_id": worker_id,
        }
        self._traced = traced
        self._span: contextlib.AbstractContextManager[Any] | None = None

    def __enter__(self) -> None:
        running, job = self._running, self._running.job
        self._job_token = enter_job(running)  # jobdeck.current_job(), made only if asked
        self._fields_token = bind_job_fields(self._fields)
        if not self._traced:
            return
        try:
            labels = json.loads(job.labels_json)
            span = tracing.process(job.task, job.queue, job.id, job.attempt, labels)
            running.span = span.__enter__()
        except BaseException:
            self._leave()  # no __exit__ follows a failed __enter__
            raise
        self._span = span

    def __exit__(self, *exc_info: Any) -> None:
        try:
            if self._span is not None:
                self._span.__exit__(*exc_info)
        finally:
            self._leave()

    def _leave(self) -> None:
        unbind_job_fields(self._fields_token)
        leave_job(self._job_token)
