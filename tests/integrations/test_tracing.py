"""OpenTelemetry: a web request's trace continues into the jobs it enqueued, in the worker
process that runs them, and a failed attempt records its exception. The application and the
worker run in processes of their own: loading OpenTelemetry here would trace every other test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from jobdeck.states import JobState
from jobdeck.store import open_store
from jobdeck.store.base import JobFilter
from tests.worker.helpers import ROOT, wait_until

APP = "tests.integrations.otel_app"


def spans_in(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_request_trace_continues_into_its_jobs_on_the_worker(db_url: str, tmp_path: Path) -> None:
    web_spans, worker_spans = tmp_path / "web.jsonl", tmp_path / "worker.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "JOBDECK_DATABASE_URL"}
    subprocess.run(
        [sys.executable, "-m", APP, "request", db_url],
        cwd=ROOT,
        env={**env, "OTEL_SPANS_FILE": str(web_spans)},
        check=True,
        timeout=60,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobdeck", "worker", "--app", f"{APP}:deck", "--database", db_url],
        cwd=ROOT,
        env={**env, "OTEL_SPANS_FILE": str(worker_spans)},
    )
    store = open_store(db_url)
    try:
        wait_until(
            lambda: (
                len(
                    store.list_jobs(
                        JobFilter(states=frozenset({JobState.SUCCEEDED, JobState.FAILED})), None, 10
                    )
                )
                == 2
            ),
            30,
            "both jobs ran",
        )
        wait_until(lambda: len(spans_in(worker_spans)) >= 3, 10, "the worker's spans")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
        store.close()

    web = {s["name"]: s for s in spans_in(web_spans)}
    done = {s["name"]: s for s in spans_in(worker_spans)}
    request, send = web["POST /claims"], web["send verify_claim"]
    process, inner = done["process verify_claim"], done["look up the claim"]
    assert send["kind"] == "PRODUCER" and send["parent_id"] == request["span_id"]
    assert process["kind"] == "CONSUMER" and process["parent_id"] == send["span_id"]
    assert inner["parent_id"] == process["span_id"]
    assert request["trace_id"] == send["trace_id"] == process["trace_id"] == inner["trace_id"]
    assert process["attributes"]["messaging.system"] == "jobdeck"
    assert process["status"] == "UNSET"

    failed = done["process charge_card"]
    assert failed["trace_id"] == request["trace_id"]
    assert failed["status"] == "ERROR" and failed["events"] == ["exception"]


def test_a_worker_of_an_untraced_app_never_loads_opentelemetry(db_url: str) -> None:
    probe = (
        "import sys\n"
        "from jobdeck import JobDeck\n"
        f"deck = JobDeck({db_url!r})\n"
        "deck.task(name='noop')(lambda: None)\n"
        "deck.get_task('noop').enqueue()\n"
        "worker = deck.worker(poll_interval=0.05)\n"
        "import threading; threading.Timer(1.0, worker.stop).start()\n"
        "worker.run(install_signals=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
