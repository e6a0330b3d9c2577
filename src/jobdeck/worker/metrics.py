"""A worker's own Prometheus endpoint (``--metrics-port``): what this process ran and holds.

The dashboard's ``/metrics`` reports the whole deck from the database; this one reports one
process (jobs it finished by task and outcome, their durations, busy slots, store errors), so
a fleet's series add up instead of repeating the same totals once per worker. Fed from the
completer's batches, off the jobs' threads. Needs the ``metrics`` extra (prometheus-client);
nothing here is imported unless ``metrics_port`` is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from jobdeck.extras import require_extra
from jobdeck.settings import Settings
from jobdeck.store.base import Outcome

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

# Seconds; from a millisecond no-op to the hour-long report.
DURATION_BUCKETS = (0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 60, 300, 1800, 3600)


class WorkerMetrics:
    def __init__(
        self,
        settings: Settings,
        worker_id: str,
        host: str,
        version: str,
        in_flight: Callable[[], int],
    ) -> None:
        require_extra("metrics", "jobdeck worker --metrics-port")
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.settings = settings
        self.registry = CollectorRegistry(auto_describe=True)
        labels = {"worker_id": worker_id, "host": host, "version": version}
        Gauge(
            "jobdeck_worker_info", "This worker process.", list(labels), registry=self.registry
        ).labels(**labels).set(1)
        Gauge("jobdeck_worker_slots", "Jobs this worker runs at once.", registry=self.registry).set(
            settings.concurrency
        )
        busy = Gauge("jobdeck_worker_busy_slots", "Jobs running here now.", registry=self.registry)
        busy.set_function(lambda: float(in_flight()))
        self.jobs = Counter(
            "jobdeck_worker_jobs",
            "Attempts this worker finished, by task and outcome (succeeded, retryable, failed, "
            "fenced: the result came after the job was rescued or handed back).",
            ["task", "outcome"],
            registry=self.registry,
        )
        self.durations = Histogram(
            "jobdeck_worker_job_duration_seconds",
            "How long attempts ran here, by task.",
            ["task"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "jobdeck_worker_store_errors",
            "Store calls that failed in this worker's fetcher and completer.",
            registry=self.registry,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def serve(self) -> None:
        from prometheus_client import start_http_server

        port, host = self.settings.metrics_port, self.settings.metrics_host
        assert port is not None
        self._server, self._thread = start_http_server(port, host, self.registry)

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def finished(self, outcomes: Sequence[Outcome], applied: set[int]) -> None:
        for outcome in outcomes:
            recorded = outcome.job_id in applied
            self.jobs.labels(outcome.task, outcome.next_state.value if recorded else "fenced").inc()
            seconds = (outcome.finished_at - outcome.started_at).total_seconds()
            self.durations.labels(outcome.task).observe(max(0.0, seconds))
