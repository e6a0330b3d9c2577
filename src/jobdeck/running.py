"""The running job as its task sees it: ``jobdeck.current_job()`` gives its id, attempt and
labels, tells it when an operator cancelled it, and takes its progress and log lines.

Reports are kept in memory and written by the worker in batches (see worker/reports.py), so
``report_progress`` and ``log`` cost a lock and an append, never a database write.

>>> job = jobdeck.current_job()
>>> for n, row in enumerate(rows):
...     job.check_cancelled()
...     job.report_progress(n + 1, len(rows), "importing")
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Protocol

from jobdeck.errors import ConfigError, JobCancelled
from jobdeck.store.records import JobProgress, LogLine

# A note or log line longer than this is cut: a report is a line for a person, not a payload.
MAX_REPORT_CHARS = 2_000


class ReportSink(Protocol):
    """Where a running job's reports go until the worker writes them."""

    def progress(self, report: JobProgress) -> None: ...
    def line(self, line: LogLine) -> None: ...


class CurrentJob:
    """One attempt of one job, while it runs on this worker."""

    def __init__(
        self,
        job_id: int,
        attempt: int,
        task: str,
        labels: Callable[[], Mapping[str, str]],
        sink: ReportSink,
        line_limit: int,
    ) -> None:
        self.id = job_id
        self.attempt = attempt
        self.task = task
        self._read_labels = labels
        self._labels: dict[str, str] | None = None
        self.cancelled_by: str | None = None
        self._cancel = threading.Event()
        self._sink = sink
        self._line_limit = line_limit
        self._lines = 0
        self._lock = threading.Lock()

    @property
    def labels(self) -> dict[str, str]:
        """The job's labels (read from the store on first use: claims do not fetch them)."""
        if self._labels is None:
            self._labels = dict(self._read_labels())
        return self._labels

    # -- cancellation ------------------------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        """True once an operator cancelled this job: stop soon (``check_cancelled`` raises)."""
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Raise ``JobCancelled`` if an operator cancelled this job; call it between steps."""
        if self._cancel.is_set():
            raise JobCancelled(f"job {self.id} was cancelled by {self.cancelled_by or '?'}")

    def wait_cancelled(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking at once if the job is cancelled."""
        return self._cancel.wait(timeout)

    @property
    def cancel_event(self) -> threading.Event:
        """Set once cancelled (the worker waits on it for a process task's child)."""
        return self._cancel

    def cancel(self, cancelled_by: str) -> None:
        """The worker's side: an operator cancelled this job."""
        self.cancelled_by = cancelled_by
        self._cancel.set()

    # -- reports -----------------------------------------------------------------------------

    def report_progress(
        self, done: float, total: float | None = None, note: str | None = None
    ) -> None:
        """How far the job got: ``done`` of ``total`` (None when the total is unknown)."""
        if not _is_number(done) or done < 0:
            raise ConfigError(f"report_progress: done must be a number ≥ 0, got {done!r}")
        if total is not None and (not _is_number(total) or total <= 0):
            raise ConfigError(f"report_progress: total must be a number > 0, got {total!r}")
        report = JobProgress(
            self.id, self.attempt, float(done), None if total is None else float(total),
            None if note is None else _clip(str(note)), _now(),
        )  # fmt: skip
        self._sink.progress(report)

    def log(self, message: str, level: str = "info") -> None:
        """Add a line to this attempt's log, shown in the dashboard's drawer. Past
        ``job_log_lines`` per attempt, lines are counted, not kept."""
        with self._lock:
            self._lines += 1
            count = self._lines
        if count > self._line_limit + 1:
            return
        if count == self._line_limit + 1:
            message, level = (
                f"… further lines left out (job_log_lines is {self._line_limit})",
                "warning",
            )
        self._sink.line(LogLine(self.id, self.attempt, _now(), level, _clip(str(message))))


class JobSource(Protocol):
    """What the worker puts in the running task's context: it makes the ``CurrentJob`` on
    first use only, so a task that never asks costs its worker nothing for it."""

    def current_job(self) -> CurrentJob: ...


_current: ContextVar[JobSource | None] = ContextVar("jobdeck_current_job", default=None)


def current_job() -> CurrentJob:
    """The job the calling task runs as (in a thread or async task; not in a process task)."""
    source = _current.get()
    if source is None:
        raise LookupError("jobdeck.current_job() is only available inside a running task")
    return source.current_job()


def enter_job(source: JobSource) -> Token[JobSource | None]:
    """Make ``source``'s job the current one in this context (a thread's or an asyncio
    task's) until ``leave_job`` with the token."""
    return _current.set(source)


def leave_job(token: Token[JobSource | None]) -> None:
    # A coroutine left on the loop (it swallowed its cancel) is closed by the garbage
    # collector, in another context, at shutdown: that context never held the job.
    with contextlib.suppress(ValueError):
        _current.reset(token)


class JobLogHandler(logging.Handler):
    """Copies log records emitted while a job runs into that job's log lines (jobdeck's own
    records are left out: they are about the worker, and stay on its log)."""

    def emit(self, record: logging.LogRecord) -> None:
        source = _current.get()
        if source is None or record.name.startswith("jobdeck"):
            return
        try:
            source.current_job().log(record.getMessage(), record.levelname.lower())
        except Exception:
            self.handleError(record)


_HANDLER = JobLogHandler()
_capturing = 0
_capturing_lock = threading.Lock()


def capture_task_logging() -> None:
    """Copy tasks' log records into their jobs' lines, from now until the matching
    ``release_task_logging`` (counted: several workers in one process install one handler)."""
    global _capturing
    with _capturing_lock:
        if _capturing == 0:
            logging.getLogger().addHandler(_HANDLER)
        _capturing += 1


def release_task_logging() -> None:
    global _capturing
    with _capturing_lock:
        _capturing = max(0, _capturing - 1)
        if _capturing == 0:
            logging.getLogger().removeHandler(_HANDLER)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _clip(text: str) -> str:
    """Bounded, and storable: PostgreSQL refuses NUL, and no UTF-8 holds a lone surrogate."""
    text = text.replace("\x00", "\\x00")
    if len(text) > MAX_REPORT_CHARS:
        text = text[: MAX_REPORT_CHARS - 1] + "…"
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _now() -> datetime:
    return datetime.now(UTC)
