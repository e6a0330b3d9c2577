"""The progress and log lines this worker's tasks report, buffered and written in batches.

A task's ``report_progress`` and ``log`` append here under a lock; the flusher writes what
gathered every ``report_flush_interval`` in one store call, so a task reporting in a tight
loop costs the database one write per interval, and a worker whose tasks report nothing
writes nothing at all.
"""

from __future__ import annotations

import threading

from jobdeck.store.base import JobProgress, LogLine, Store
from jobdeck.worker.services import Looper

# A store down for long must not grow the buffer without end: past this many lines waiting,
# the oldest are dropped (progress is one row per attempt and needs no bound).
MAX_WAITING_LINES = 50_000


class ReportBuffer:
    """What tasks reported since the last write: the latest progress per attempt, the lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: dict[tuple[int, int], JobProgress] = {}
        self._lines: list[LogLine] = []

    def progress(self, report: JobProgress) -> None:
        with self._lock:
            self._progress[report.job_id, report.attempt] = report

    def line(self, line: LogLine) -> None:
        with self._lock:
            self._lines.append(line)

    def take(self) -> tuple[list[JobProgress], list[LogLine]]:
        with self._lock:
            progress, self._progress = list(self._progress.values()), {}
            lines, self._lines = self._lines, []
        return progress, lines

    def put_back(self, progress: list[JobProgress], lines: list[LogLine]) -> None:
        """A write failed: keep the reports for the next one (newer progress wins)."""
        with self._lock:
            for report in progress:
                self._progress.setdefault((report.job_id, report.attempt), report)
            self._lines[:0] = lines
            del self._lines[: max(0, len(self._lines) - MAX_WAITING_LINES)]


class ReportFlusher(Looper):
    """Writes the buffer each interval, and once more when the worker stops."""

    name = "reports"

    def __init__(self, store: Store, buffer: ReportBuffer, interval: float) -> None:
        super().__init__(interval)
        self.store = store
        self.buffer = buffer
        self.writes = 0

    def tick(self) -> None:
        progress, lines = self.buffer.take()
        if not progress and not lines:
            return
        try:
            self.store.write_reports(progress, lines)
        except Exception:
            self.buffer.put_back(progress, lines)
            raise
        self.writes += 1

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self.run_once()  # what the last jobs reported after the final tick
