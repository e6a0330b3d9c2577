"""The PostgreSQL store's reading verbs: the shared ones (store/insight.py), with the stats
rollups keyed by timestamptz, their compaction in one statement, the workers view and the
search indexer."""

from __future__ import annotations

from datetime import datetime

from jobdeck.clock import Clock, SystemClock
from jobdeck.store.insight import InsightVerbs
from jobdeck.store.postgres.connection import from_db
from jobdeck.store.postgres.statements import PgDatabase
from jobdeck.store.records import LatencyRow, StatsRow, WorkerInfo
from jobdeck.store.rows import latency_folds, latency_from_row, stats_from_row, worker_from_row
from jobdeck.store.search import SEARCH_LAG


class PostgresInsight(InsightVerbs[PgDatabase]):
    clock: Clock

    def stats_series(self, since: datetime, until: datetime, bucket_seconds: int) -> list[StatsRow]:
        params = {"since": since, "until": until, "bucket": bucket_seconds}
        return [stats_from_row(r, "bucket") for r in self._db.rows("stats_series", params)]

    def stats_by_task(self, since: datetime, until: datetime) -> list[StatsRow]:
        params = {"since": since, "until": until}
        return [stats_from_row(r, "task") for r in self._db.rows("stats_by_task", params)]

    def latency_series(
        self, since: datetime, until: datetime, bucket_seconds: int
    ) -> list[LatencyRow]:
        params = {"since": since, "until": until, "bucket": bucket_seconds}
        return [latency_from_row(r, "start") for r in self._db.rows("latency_series", params)]

    def latency_by_task(self, since: datetime, until: datetime) -> list[LatencyRow]:
        params = {"since": since, "until": until}
        return [latency_from_row(r, "task") for r in self._db.rows("latency_by_task", params)]

    def compact_stats(self, before: datetime) -> int:
        """Fold per-minute rollups older than ``before`` into hourly rows; how many folded.
        Each statement is atomic and safe to replay, so the two need no shared transaction."""
        for older_than, size in latency_folds(before):
            self._db.value("compact_latency", {"before": older_than, "size": size}, "n")
        return int(self._db.value("compact_stats", {"before": before}, "n"))

    def list_workers(self, since: datetime | None = None) -> list[WorkerInfo]:
        rows = self._db.rows("list_workers", {"since": since})
        return [worker_from_row(r, from_db) for r in rows]

    def index_search(self, limit: int) -> int:
        # The server's clock, as finished_at was written with it, unless tests move their own.
        now = None if isinstance(self.clock, SystemClock) else self.clock.now()
        params = {"now": now, "lag": SEARCH_LAG.total_seconds(), "limit": limit}
        return int(self._db.value("index_search", params, "n"))
