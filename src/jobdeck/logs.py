"""One log format for every jobdeck process: the CLI's and the children it starts.

``text`` (the default) is for people; ``json`` is one object per line for log shippers, with
the job a line was logged under (``job_id``, ``task``, ``attempt``, ``queue``, ``worker_id``)
and the OpenTelemetry ``trace_id`` when a span is current.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# The job the current thread or coroutine runs. A contextvar, not a logging filter per call
# site: the task's own log lines (and the libraries it calls) carry the job too, and each
# asyncio task of the worker's event loop sees only its own job.
_job_fields: ContextVar[Mapping[str, Any] | None] = ContextVar("jobdeck_job", default=None)

# What setup_logging configured in this process, handed on to the children it starts.
_active_format = "text"

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is kept,
# but for uvicorn's copy of each message with terminal colours in it.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


@contextlib.contextmanager
def job_context(**fields: Any) -> Iterator[None]:
    """Tag every log line of this thread or coroutine with ``fields`` until the block ends.

    >>> with job_context(job_id=7, task="send_mail", attempt=1, queue="default"):
    ...     logging.getLogger("app").info("sent")  # carries job_id 7 in JSON logs
    """
    token = bind_job_fields(fields)
    try:
        yield
    finally:
        unbind_job_fields(token)


def bind_job_fields(fields: Mapping[str, Any]) -> Token[Mapping[str, Any] | None]:
    """``job_context`` without the block, for the worker's once-per-job scope."""
    return _job_fields.set(fields)


def unbind_job_fields(token: Token[Mapping[str, Any] | None]) -> None:
    # A coroutine abandoned on the worker's loop (it swallowed its cancellation) is closed by
    # the garbage collector, outside the context it ran in: there is nothing to reset.
    with contextlib.suppress(ValueError):
        _job_fields.reset(token)


def current_job_fields() -> dict[str, Any]:
    """The fields ``job_context`` set here, for handing on to a child process."""
    return dict(_job_fields.get() or {})


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO 8601, UTC), level, logger, message, the job's
    fields, ``extra=`` values, ``trace_id``/``span_id`` and ``exc_info`` as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_job_fields.get() or {})
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        entry.update(_trace_ids())
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _trace_ids() -> dict[str, str]:
    # Read from sys.modules, never imported: a worker without OpenTelemetry does not pay for
    # it, and one whose app uses it has imported it already (no span could be current else).
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


def active_log_format() -> str:
    """``text`` or ``json``: what this process logs in, for the children it starts."""
    return _active_format


def check_log_format(value: str) -> str:
    from jobdeck.errors import ConfigError

    if value not in LOG_FORMATS:
        raise ConfigError(f"log_format must be text or json, got {value!r}")
    return value


def setup_logging(level: str | int, log_format: str = "text") -> None:
    """Log to stderr at ``level`` in ``text`` or ``json``; as ``logging.basicConfig``, a no-op
    when the root logger has handlers already (a host application's, or pytest's)."""
    global _active_format
    check_log_format(log_format)
    if logging.getLogger().handlers:
        return
    _active_format = log_format
    # Children started without a format of their own (document extractors) read it here: a
    # fresh process inherits the environment, not this module's state.
    os.environ["JOBDECK_LOG_FORMAT"] = log_format
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(
        level=level.upper() if isinstance(level, str) else level, handlers=[handler]
    )
    # warnings.warn() output goes through logging too, so a JSON stream stays all JSON.
    logging.captureWarnings(log_format == "json")


def prepare_child(
    log_level: int, log_format: str | None = None, job: Mapping[str, Any] | None = None
) -> None:
    """First steps of every child process jobdeck starts (process tasks, document extractors).

    A new process has no logging set up, so what it logs would reach the worker's stderr as
    bare lines: it logs like its parent instead (``log_format`` defaults to
    $JOBDECK_LOG_FORMAT, else text), under the parent's ``job`` fields. And Ctrl-C in a
    terminal reaches the whole process group, but stopping children is the parent's job (a
    draining worker lets its running jobs finish), so a child must not die of it with a
    traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fmt = log_format or os.environ.get("JOBDECK_LOG_FORMAT", "text").strip().lower()
    setup_logging(log_level, fmt if fmt in LOG_FORMATS else "text")
    if job:
        _job_fields.set(job)
