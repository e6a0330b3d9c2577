"""OpenTelemetry spans for enqueue and execution, with the ``otel`` extra; none without it.

Enqueue makes a producer span and carries its W3C trace context in the job's labels
(``traceparent``, ``tracestate``), as Oban carries it in a job's meta: so a web request's trace
continues into the job it enqueued, on whatever host runs it, and the label shows the trace id
in the dashboard. Execution makes a consumer span, a child of that context, that records the
attempt's exception.

jobdeck traces when the application has loaded OpenTelemetry (its SDK set-up, or
``opentelemetry-instrument``, imports ``opentelemetry.trace``) and the ``tracing`` setting is on
(the default). It never imports OpenTelemetry itself: the API comes installed with FastAPI, and
a worker of an application that does not trace should not pay for loading it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from jobdeck._version import __version__

TRACE_LABELS = ("traceparent", "tracestate")
SYSTEM = "jobdeck"


def active(enabled: bool) -> bool:
    """Whether to trace: the ``tracing`` setting, and the application loaded OpenTelemetry."""
    return enabled and "opentelemetry.trace" in sys.modules


@contextlib.contextmanager
def publish(task: str, queue: str, count: int) -> Iterator[dict[str, str]]:
    """A producer span around an enqueue; yields the labels that carry its context."""
    from opentelemetry import propagate, trace

    tracer = trace.get_tracer("jobdeck", __version__)
    attributes: dict[str, str | int] = {
        "messaging.system": SYSTEM,
        "messaging.operation.type": "send",
        "messaging.destination.name": queue,
        "messaging.batch.message_count": count,
        "jobdeck.task": task,
    }
    kind = trace.SpanKind.PRODUCER
    with tracer.start_as_current_span(f"send {task}", kind=kind, attributes=attributes):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield {name: carrier[name] for name in TRACE_LABELS if name in carrier}


@contextlib.contextmanager
def process(
    task: str, queue: str, job_id: int, attempt: int, labels: Mapping[str, Any]
) -> Iterator[Any]:
    """A consumer span around one attempt, continuing the trace its enqueue began; an
    exception raised inside is recorded on it."""
    from opentelemetry import propagate, trace

    parent = propagate.extract({k: str(labels[k]) for k in TRACE_LABELS if k in labels})
    tracer = trace.get_tracer("jobdeck", __version__)
    attributes: dict[str, str | int] = {
        "messaging.system": SYSTEM,
        "messaging.operation.type": "process",
        "messaging.destination.name": queue,
        "messaging.message.id": str(job_id),
        "jobdeck.task": task,
        "jobdeck.attempt": attempt,
    }
    kind = trace.SpanKind.CONSUMER
    with tracer.start_as_current_span(
        f"process {task}", context=parent, kind=kind, attributes=attributes
    ) as span:
        yield span


def record_failure(span: Any, error: str, exc: BaseException | None) -> None:
    """Mark a consumer span failed: with the exception when the task raised one in this
    process, else with the error line (a timeout, a child process that died)."""
    from opentelemetry.trace import Status, StatusCode

    if exc is not None:
        span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, error))
