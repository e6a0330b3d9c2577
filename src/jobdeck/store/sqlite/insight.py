"""The SQLite store's reading verbs: jobs and their attempts, the task list, counts, the stats
rollups (and their compaction), workers."""

from __future__ import annotations

from datetime import datetime

from jobdeck.states import JobState
from jobdeck.store import listing
from jobdeck.store.base import InsightStore
from jobdeck.store.records import AttemptRow, JobFilter, JobRow, StatsRow, WorkerInfo
from jobdeck.store.rows import attempt_from_row, job_from_row, stats_from_row, worker_from_row
from jobdeck.store.sqlite.connection import SQLiteDatabase, epoch, from_db, to_db


class SQLiteInsight(InsightStore):
    """Mixed into SQLiteStore, which sets ``_db``."""

    _db: SQLiteDatabase

    def get_job(self, job_id: int) -> JobRow | None:
        return read_job(self._db, job_id)

    def get_attempts(self, job_id: int) -> list[AttemptRow]:
        rows = self._db.read("get_attempts", {"job_id": job_id})
        return [attempt_from_row(r, from_db) for r in rows]

    def list_jobs(
        self, filters: JobFilter, before_id: int | None, limit: int, after_id: int | None = None
    ) -> list[JobRow]:
        return listing.list_jobs(self._db, filters, before_id, limit, after_id)

    def count_jobs(self, filters: JobFilter) -> int:
        return listing.count_jobs(self._db, filters)

    def count_by_state(self) -> dict[JobState, int]:
        return {JobState(state): count for state, count in self._db.read("count_by_state")}

    def task_names(self) -> list[str]:
        return sorted(row[0] for row in self._db.read("task_names"))

    def stats_series(self, since: datetime, until: datetime, bucket_seconds: int) -> list[StatsRow]:
        params = {"since": epoch(since), "until": epoch(until), "bucket": bucket_seconds}
        return [stats_from_row(r, "bucket") for r in self._db.read("stats_series", params)]

    def stats_by_task(self, since: datetime, until: datetime) -> list[StatsRow]:
        params = {"since": epoch(since), "until": epoch(until)}
        return [stats_from_row(r, "task") for r in self._db.read("stats_by_task", params)]

    def compact_stats(self, before: datetime) -> int:
        with self._db.write() as db:
            db.execute(self._db.q["compact_stats_fold"], {"before": epoch(before)})
            return db.execute(
                self._db.q["compact_stats_delete"], {"before": epoch(before)}
            ).rowcount

    def list_workers(self, since: datetime | None = None) -> list[WorkerInfo]:
        rows = self._db.read("list_workers", {"since": to_db(since) or ""})
        return [worker_from_row(r, from_db) for r in rows]


def read_job(db: SQLiteDatabase, job_id: int) -> JobRow | None:
    rows = db.read("get_job", {"id": job_id})
    return job_from_row(rows[0], from_db) if rows else None
