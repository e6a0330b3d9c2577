"""Running one claimed job and turning what happened into an Outcome for the store."""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jobdeck.errors import SerializationError
from jobdeck.fingerprints import fingerprint
from jobdeck.limits import PayloadLimits, encode_result
from jobdeck.logs import active_log_format, current_job_fields, prepare_child
from jobdeck.retry import retry_at
from jobdeck.running import CurrentJob
from jobdeck.settings import Settings
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimedJob, Outcome
from jobdeck.tasks import Task

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


@dataclass
class RunningJob:
    """A job this worker holds; ``abandoned`` once it timed out or was handed back."""

    job: ClaimedJob
    task: Task[..., Any] | None
    deadline: float | None = None
    thread_ident: int | None = None
    abandoned: bool = False
    future: Future[None] | None = None  # an async task's, on the worker's event loop
    span: Any = None  # its OpenTelemetry span, when the application traces
    cancelled_by: str | None = None  # an operator cancelled it: it ends cancelled
    cancel_event: threading.Event | None = None  # a process task's: set, its child is ended
    # Makes what jobdeck.current_job() gives the task, the first time the task asks.
    make_context: Callable[[RunningJob], CurrentJob] | None = None
    context: CurrentJob | None = None
    began: float = field(default_factory=time.monotonic)  # just after the claim came back
    started: float | None = None  # when it began running in a slot (claimed ahead: later)
    # When its lease is dated from, on this host's monotonic clock (worker.leases): None when
    # the worker does not watch leases (SQLite: no other host can lose sight of its database).
    claimed_from: float | None = None

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def current_job(self) -> CurrentJob:
        if self.context is None:
            assert self.make_context is not None
            self.context = self.make_context(self)
            # Stored before the check, as cancel() stores cancelled_by before looking at the
            # context: whichever runs second sees the other, so no cancel is missed.
            if self.cancelled_by is not None:
                self.context.cancel(self.cancelled_by)
        return self.context

    def cancel(self, cancelled_by: str) -> None:
        self.cancelled_by = cancelled_by
        if self.context is not None:
            self.context.cancel(cancelled_by)
        if self.cancel_event is not None:
            self.cancel_event.set()

    def stop(self, why: str) -> None:
        """Ask the task to stop, as a cancel does, without making its attempt a cancel: the
        worker has already recorded how the attempt ended (its lease is about to run out)."""
        context = self.current_job() if self.make_context is not None else self.context
        if context is not None:
            context.cancel(why)
        if self.cancel_event is not None:
            self.cancel_event.set()
        if self.future is not None:
            self.future.cancel()

    def now(self) -> datetime:
        """The time on the store's clock: the claim's time plus what this host's monotonic
        clock measured since. A host clock that is off (or stepped by NTP meanwhile) changes
        neither the attempt's duration nor when its retry is due."""
        return self.job.started_at + timedelta(seconds=self.elapsed())


# Error text is written as given but bounded: an exception message often quotes its input, and
# the input may be a payload of a megabyte. A summary is one line for the schedules page.
ERROR_CHARS = 2_000
TRACEBACK_HEAD_CHARS = 10_000
TRACEBACK_TAIL_CHARS = 40_000
SUMMARY_CHARS = 500


def describe_timeout(seconds: float) -> str:
    shown = f"{seconds:g}"
    return f"timed out after {shown} s"


def success_outcome(
    job: ClaimedJob, value: Any, finished: datetime, settings: Settings, task: Task[..., Any] | None
) -> Outcome:
    try:
        result_json = encode_result(value, PayloadLimits.of(settings))
    except SerializationError as exc:  # not JSON, or past the payload limits
        return failure_outcome(job, str(exc), None, finished, settings, task)
    summary = value.get("summary") if isinstance(value, dict) else None
    if isinstance(summary, str) and len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return Outcome(
        job_id=job.id,
        attempt=job.attempt,
        task=job.task,
        status=AttemptStatus.SUCCEEDED,
        next_state=JobState.SUCCEEDED,
        started_at=job.started_at,
        finished_at=finished,
        result_json=result_json,
        summary=summary if isinstance(summary, str) else None,
        wait_ms=job.wait_ms,
    )


def failure_outcome(
    job: ClaimedJob,
    error: str,
    trace: str | None,
    finished: datetime,
    settings: Settings,
    task: Task[..., Any] | None,
    final: bool = False,
) -> Outcome:
    out_of_attempts = final or job.attempt >= job.max_attempts
    base = task.retry_backoff if task else settings.backoff_base
    stored_error = storable_text(_clip(error, ERROR_CHARS))
    stored_trace = None if trace is None else storable_text(_clip_middle(trace))
    return Outcome(
        job_id=job.id,
        attempt=job.attempt,
        task=job.task,
        status=AttemptStatus.FAILED,
        next_state=JobState.FAILED if out_of_attempts else JobState.RETRYABLE,
        started_at=job.started_at,
        finished_at=finished,
        alert=not final,
        run_at=None
        if out_of_attempts
        else retry_at(finished, job.attempt, base, settings.backoff_max),
        error=stored_error,
        traceback=stored_trace,
        # From the stored text, so a child process's failure groups as a thread's does.
        error_group=fingerprint(stored_error, stored_trace),
        wait_ms=job.wait_ms,
    )


def cancelled_outcome(job: ClaimedJob, cancelled_by: str, finished: datetime) -> Outcome:
    """The end of an attempt an operator cancelled: final, never retried, never alerted on."""
    return Outcome(
        job_id=job.id,
        attempt=job.attempt,
        task=job.task,
        status=AttemptStatus.CANCELLED,
        next_state=JobState.CANCELLED,
        started_at=job.started_at,
        finished_at=finished,
        error=storable_text(_clip(f"cancelled by {cancelled_by}", ERROR_CHARS)),
        alert=False,
        wait_ms=job.wait_ms,
    )


def storable_text(text: str) -> str:
    """``text`` with NUL characters and lone surrogates written as escapes (\\x00, \\ud800).

    Neither can be stored (PostgreSQL refuses NUL, no UTF-8 holds a surrogate), and an outcome
    the store refuses would be retried by the completer for ever, holding its batch back.
    """
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _clip_middle(trace: str) -> str:
    """The first frames and the end (where the exception is) of a very long traceback."""
    if len(trace) <= TRACEBACK_HEAD_CHARS + TRACEBACK_TAIL_CHARS:
        return trace
    left_out = len(trace) - TRACEBACK_HEAD_CHARS - TRACEBACK_TAIL_CHARS
    return (
        f"{trace[:TRACEBACK_HEAD_CHARS]}\n… ({left_out:,} characters left out) …\n"
        f"{trace[-TRACEBACK_TAIL_CHARS:]}"
    )


def error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    name = type(exc).__name__
    return f"{name}: {text[0]}" if text else name


def decode_args(job: ClaimedJob) -> dict[str, Any]:
    args = json.loads(job.args_json)
    if not isinstance(args, dict):
        raise TypeError(f"job {job.id} args must be a JSON object, got {type(args).__name__}")
    return args


def format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


# -- process executor ---------------------------------------------------------------------------


def run_in_child(
    task: Task[..., Any],
    kwargs: dict[str, Any],
    timeout: float | None,
    cancelled: threading.Event | None = None,
) -> Any:
    """Run a task in a fresh child process; a timeout kills the child (a hard limit), and so
    does ``cancelled`` when it is set (an operator cancelled the job: ``ChildCancelled``).

    The child imports the task by module and attribute, so process tasks must live in an
    importable module, not in ``__main__``.
    """
    import multiprocessing  # only process tasks pay for it (tempfile, shutil, bz2, lzma...)

    context = multiprocessing.get_context("forkserver")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(
            task.fn.__module__,
            task.fn.__qualname__,
            json.dumps(kwargs),
            sender,
            logging.getLogger().getEffectiveLevel(),
            active_log_format(),
            current_job_fields(),
        ),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        _wait_for_answer(receiver, child, timeout, cancelled)
        try:
            ok, payload = receiver.recv()
        except EOFError:
            child.join(1)
            raise ChildCrashed(
                f"task process exited with code {child.exitcode} before answering"
            ) from None
    finally:
        receiver.close()
        child.join(5)
    if ok:
        return payload
    raise ChildFailed(payload[0], payload[1])


# How often a process task's wait looks at its cancel flag: the answer itself is not delayed.
_CANCEL_POLL_S = 0.05


def _wait_for_answer(
    receiver: Connection, child: Any, timeout: float | None, cancelled: threading.Event | None
) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        step = remaining if cancelled is None else min(remaining or _CANCEL_POLL_S, _CANCEL_POLL_S)
        if receiver.poll(step):
            return
        if cancelled is not None and cancelled.is_set():
            child.terminate()  # SIGTERM: the task may clean up, for a moment
            child.join(1)
            if child.is_alive():
                child.kill()
            raise ChildCancelled("task process terminated: the job was cancelled")
        if deadline is not None and time.monotonic() >= deadline:
            child.kill()
            raise TimeoutError(describe_timeout(timeout or 0))


class ChildCrashed(RuntimeError):
    pass


class ChildCancelled(RuntimeError):
    pass


class ChildFailed(RuntimeError):
    def __init__(self, line: str, trace: str) -> None:
        super().__init__(line)
        self.trace = trace


def _child_main(
    module: str,
    qualname: str,
    kwargs_json: str,
    sender: Connection,
    log_level: int,
    log_format: str = "text",
    job_fields: dict[str, Any] | None = None,
) -> None:
    prepare_child(log_level, log_format, job_fields)
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
        function = target.fn if isinstance(target, Task) else target
        sender.send((True, function(**json.loads(kwargs_json))))
    except BaseException as exc:
        sender.send((False, (error_line(exc), format_exception(exc))))
    finally:
        sender.close()
