"""``jobdeck worker --metrics-port``: one process's own Prometheus endpoint, on localhost."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobdeck import JobDeck, PermanentFailure
from jobdeck.worker.metrics import WorkerMetrics
from tests.ports import free_port
from tests.worker.helpers import FAST, WorkerProcess, running_worker, wait_until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def deck(db_url: str) -> Iterator[JobDeck]:
    deck = JobDeck(db_url, **FAST)
    release = threading.Event()

    @deck.task(name="ok")
    def ok() -> None: ...

    @deck.task(name="broken", max_attempts=1)
    def broken() -> None:
        raise PermanentFailure("no such customer")

    @deck.task(name="slow")
    def slow() -> None:
        release.wait(10)

    deck.release = release  # type: ignore[attr-defined]
    yield deck
    release.set()
    deck.close()


def scrape(metrics: WorkerMetrics) -> Samples:
    host, port = metrics.address
    text = httpx.get(f"http://{host}:{port}/metrics", timeout=5).text
    return {
        (
            s.name,
            tuple(sorted((k, v) for k, v in s.labels.items() if k in ("task", "outcome"))),
        ): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_worker_reports_what_it_ran_and_holds(deck: JobDeck) -> None:
    for _ in range(3):
        deck.get_task("ok").enqueue()
    deck.get_task("broken").enqueue()
    with running_worker(deck, metrics_port=0) as worker:
        assert worker.metrics is not None
        wait_until(lambda: finished(scrape(worker.metrics)) == 4, 10, "four attempts reported")
        deck.get_task("slow").enqueue()
        samples = wait_until(
            lambda: (s := scrape(worker.metrics))[("jobdeck_worker_busy_slots", ())] == 1 and s, 10
        )
        assert worker.metrics.address[0] == "127.0.0.1"
        assert (
            samples[("jobdeck_worker_jobs_total", (("outcome", "succeeded"), ("task", "ok")))] == 3
        )
        assert (
            samples[("jobdeck_worker_jobs_total", (("outcome", "failed"), ("task", "broken")))] == 1
        )
        assert samples[("jobdeck_worker_job_duration_seconds_count", (("task", "ok"),))] == 3
        assert samples[("jobdeck_worker_slots", ())] == FAST["concurrency"]
        assert samples[("jobdeck_worker_store_errors_total", ())] == 0
        deck.release.set()  # type: ignore[attr-defined]


def finished(samples: Samples) -> float:
    return sum(v for (name, _), v in samples.items() if name == "jobdeck_worker_jobs_total")


def test_no_port_no_endpoint_and_a_bad_port_is_one_line(deck: JobDeck) -> None:
    assert deck.worker().metrics is None
    with pytest.raises(ValueError, match="metrics_port must be between 0 and 65535"):
        deck.worker(metrics_port=70000)


def test_jobdeck_worker_metrics_port_serves_them(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    worker = WorkerProcess(db_url, tmp_path, {}, args=("--metrics-port", str(port))).start()
    try:
        text = wait_until(lambda: _get(f"http://127.0.0.1:{port}/metrics"), 30, "metrics served")
        assert "jobdeck_worker_busy_slots 0.0" in text
        assert 'jobdeck_worker_info{host="' in text
    finally:
        worker.signal(signal.SIGTERM)
        worker.wait(20)


def _get(url: str) -> str | None:
    try:
        return httpx.get(url, timeout=2).text
    except httpx.TransportError:
        return None
