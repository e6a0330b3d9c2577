"""A traced application for the OpenTelemetry tests; each process writes its finished spans,
one JSON object a line, to the file named by $OTEL_SPANS_FILE.

    python -m tests.integrations.otel_app request DB_URL    # a "web request" that enqueues
    jobdeck worker --app tests.integrations.otel_app:deck    # runs the jobs it enqueued
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from jobdeck import JobDeck, PermanentFailure


class JsonLinesExporter(SpanExporter):
    def __init__(self, path: str) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with open(self.path, "a", encoding="utf-8") as out:
            for span in spans:
                out.write(json.dumps(_as_dict(span)) + "\n")
        return SpanExportResult.SUCCESS


def _as_dict(span: ReadableSpan) -> dict[str, object]:
    context = span.get_span_context()
    assert context is not None
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [event.name for event in span.events],
    }


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(os.environ["OTEL_SPANS_FILE"])))
trace.set_tracer_provider(provider)

deck = JobDeck(None, poll_interval=0.05, heartbeat_interval=0.2, lease_duration=2.0)


@deck.task(name="verify_claim")
def verify_claim(claim_id: int) -> dict[str, int]:
    with trace.get_tracer("otel_app").start_as_current_span("look up the claim"):
        return {"claim_id": claim_id}


@deck.task(name="charge_card", max_attempts=1)
def charge_card(card: str) -> None:
    raise PermanentFailure(f"card {card} declined")


def handle_request(database_url: str) -> None:
    """What a web handler does: inside its request span, enqueue two jobs."""
    deck.use_database(database_url)
    tracer = trace.get_tracer("otel_app")
    with tracer.start_as_current_span("POST /claims", kind=trace.SpanKind.SERVER):
        verify_claim.enqueue(claim_id=7)
        charge_card.enqueue(card="4000-0002")
    deck.close()


if __name__ == "__main__" and sys.argv[1] == "request":
    handle_request(sys.argv[2])
