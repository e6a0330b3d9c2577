"""The PostgreSQL store's reading verbs: jobs and their attempts, the task list, counts, the
stats rollups (and their compaction), workers."""

from __future__ import annotations

from datetime import datetime

from jobdeck.states import JobState
from jobdeck.store import listing
from jobdeck.store.base import InsightStore
from jobdeck.store.postgres.connection import from_db
from jobdeck.store.postgres.statements import PgDatabase
from jobdeck.store.records import AttemptRow, JobFilter, JobRow, StatsRow, WorkerInfo
from jobdeck.store.rows import attempt_from_row, job_from_row, stats_from_row, worker_from_row


class PostgresInsight(InsightStore):
    """Mixed into PostgresStore, which sets ``_db``."""

    _db: PgDatabase

    def get_job(self, job_id: int) -> JobRow | None:
        rows = self._db.rows("get_job", {"id": job_id})
        return job_from_row(rows[0], from_db) if rows else None

    def get_attempts(self, job_id: int) -> list[AttemptRow]:
        rows = self._db.rows("get_attempts", {"job_id": job_id})
        return [attempt_from_row(r, from_db) for r in rows]

    def list_jobs(
        self, filters: JobFilter, before_id: int | None, limit: int, after_id: int | None = None
    ) -> list[JobRow]:
        return listing.list_jobs(self._db, filters, before_id, limit, after_id)

    def count_jobs(self, filters: JobFilter) -> int:
        return listing.count_jobs(self._db, filters)

    def count_by_state(self) -> dict[JobState, int]:
        return {JobState(r["state"]): int(r["n"]) for r in self._db.rows("count_by_state")}

    def task_names(self) -> list[str]:
        return sorted(r["task"] for r in self._db.rows("task_names"))

    def stats_series(self, since: datetime, until: datetime, bucket_seconds: int) -> list[StatsRow]:
        params = {"since": since, "until": until, "bucket": bucket_seconds}
        return [stats_from_row(r, "bucket") for r in self._db.rows("stats_series", params)]

    def stats_by_task(self, since: datetime, until: datetime) -> list[StatsRow]:
        params = {"since": since, "until": until}
        return [stats_from_row(r, "task") for r in self._db.rows("stats_by_task", params)]

    def compact_stats(self, before: datetime) -> int:
        """Fold per-minute rollups older than ``before`` into hourly rows; how many folded."""
        return int(self._db.value("compact_stats", {"before": before}, "n"))

    def list_workers(self, since: datetime | None = None) -> list[WorkerInfo]:
        rows = self._db.rows("list_workers", {"since": since})
        return [worker_from_row(r, from_db) for r in rows]
