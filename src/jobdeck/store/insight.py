"""The reading verbs both dialects share: jobs and their attempts, the task list, counts.
The stats rollups and the workers view stay with each dialect, which keys times its own way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from jobdeck.states import JobState
from jobdeck.store import listing
from jobdeck.store.base import InsightStore
from jobdeck.store.dialect import Reader
from jobdeck.store.limiting import LimitUsage, running_counts
from jobdeck.store.records import AttemptRow, JobFilter, JobLink, JobProgress, JobRow, LogLine
from jobdeck.store.rows import from_row, required_time

D = TypeVar("D", bound=Reader)


class InsightVerbs(InsightStore, Generic[D]):
    """The base of each dialect's insight group; the store sets ``_db``."""

    _db: D

    def get_job(self, job_id: int) -> JobRow | None:
        return read_job(self._db, job_id)

    def get_attempts(self, job_id: int) -> list[AttemptRow]:
        rows = self._db.read("get_attempts", {"job_id": job_id})
        return [from_row(AttemptRow, r, self._db.parse_time) for r in rows]

    def list_jobs(
        self, filters: JobFilter, before_id: int | None, limit: int, after_id: int | None = None
    ) -> list[JobRow]:
        return listing.list_jobs(self._db, filters, before_id, limit, after_id)

    def count_jobs(self, filters: JobFilter) -> int:
        return listing.count_jobs(self._db, filters)

    def count_by_state(self) -> dict[JobState, int]:
        return {JobState(r["state"]): int(r["n"]) for r in self._db.read("count_by_state")}

    def count_jobs_by_state(self, filters: JobFilter, cap: int) -> dict[JobState, int]:
        return listing.count_by_state(self._db, filters, cap)

    def task_names(self) -> list[str]:
        return sorted(r["task"] for r in self._db.read("task_names"))

    def limit_usage(self) -> LimitUsage:
        slots = {
            r["key"]: required_time(self._db.parse_time(r["next_free_at"]))
            for r in self._db.read("all_rate_slots")
        }
        return LimitUsage(running_counts(self._db.read("running_by_limit")), slots)

    def get_progress(self, job_ids: Sequence[int]) -> list[JobProgress]:
        if not job_ids:
            return []
        rows = self._db.read("get_progress", {"ids": self._db.encode_list(list(job_ids))})
        return [from_row(JobProgress, r, self._db.parse_time) for r in rows]

    def get_log_lines(self, job_id: int) -> list[LogLine]:
        rows = self._db.read("get_log_lines", {"job_id": job_id})
        return [from_row(LogLine, r, self._db.parse_time) for r in rows]

    def get_job_links(self, job_id: int) -> list[JobLink]:
        rows = self._db.read("job_links", {"job_id": job_id})
        links = [from_row(JobLink, r, self._db.parse_time) for r in rows]
        return sorted(links, key=lambda link: (link.relation != "parent", link.job_id))


def read_job(db: Reader, job_id: int) -> JobRow | None:
    rows = db.read("get_job", {"id": job_id})
    return from_row(JobRow, rows[0], db.parse_time) if rows else None
