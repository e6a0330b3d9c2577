"""The PostgreSQL store's error groups: the shared verbs (store/errorgroups.py) over a rollup
keyed by timestamptz; ``complete_jobs`` writes them in its one statement (queries.sql)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobdeck.store.errorgroups import ErrorGroupVerbs
from jobdeck.store.postgres.statements import PgDatabase
from jobdeck.store.rows import required_time


class PostgresErrorGroups(ErrorGroupVerbs[PgDatabase]):
    def _minute_param(self, moment: datetime) -> Any:
        return moment

    def _minute_value(self, value: Any) -> datetime:
        if isinstance(value, int):  # a series bucket, in epoch seconds
            return datetime.fromtimestamp(value, UTC)
        return required_time(self._db.parse_time(value))

    def compact_error_groups(self, before: datetime, bucket_seconds: int = 3600) -> int:
        params = {"before": before, "bucket": bucket_seconds}
        return int(self._db.value("compact_error_groups", params, "n"))
