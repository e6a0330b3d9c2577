"""The error-group verbs both dialects share: the groups of a period, a group's sparkline and
its all-time counts, mute, and a batch of "retry all in this group". Each dialect says how it
keys the rollup's minutes (epoch seconds on SQLite, timestamptz on PostgreSQL) and compacts it.

The writes happen in ``complete_jobs`` (each dialect's queue module), in its one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from jobdeck.store.base import ErrorGroupStore
from jobdeck.store.dialect import Row, Statements
from jobdeck.store.records import ErrorGroupPoint, ErrorGroupRow
from jobdeck.store.rows import from_row

D = TypeVar("D", bound=Statements)


class ErrorGroupVerbs(ErrorGroupStore, Generic[D]):
    """The base of each dialect's error-group verbs; the store sets ``_db``."""

    _db: D

    def _minute_param(self, moment: datetime) -> Any:
        """A time as the rollup's ``minute`` column compares with it."""
        raise NotImplementedError

    def _minute_value(self, value: Any) -> datetime:
        """A ``minute`` (or bucket) read back, as a time."""
        raise NotImplementedError

    def list_error_groups(
        self, since: datetime, until: datetime, include_muted: bool, limit: int
    ) -> list[ErrorGroupRow]:
        params = {
            "since": self._minute_param(since),
            "until": self._minute_param(until),
            "include_muted": include_muted,
            "limit": limit,
        }
        return [self._group(r) for r in self._db.read("list_error_groups", params)]

    def error_group_series(
        self, since: datetime, until: datetime, bucket_seconds: int, fingerprints: Sequence[str]
    ) -> list[ErrorGroupPoint]:
        if not fingerprints:
            return []
        params = {
            "since": self._minute_param(since),
            "until": self._minute_param(until),
            "bucket": bucket_seconds,
            "fingerprints": self._db.encode_list(list(fingerprints)),
        }
        return [
            ErrorGroupPoint(r["fingerprint"], self._minute_value(r["bucket"]), int(r["failures"]))
            for r in self._db.read("error_group_series", params)
        ]

    def get_error_group(self, fingerprint: str) -> ErrorGroupRow | None:
        rows = self._db.read("get_error_group", {"fingerprint": fingerprint})
        return self._group(rows[0]) if rows else None

    def set_error_group_muted(self, fingerprint: str, muted_by: str | None, now: datetime) -> bool:
        params = {
            "fingerprint": fingerprint,
            "muted_by": muted_by,
            "now": self._db.encode_time(now),
        }
        return self._db.write_count("set_error_group_muted", params) > 0

    def retry_error_group(
        self, fingerprint: str, now: datetime, after_id: int, limit: int
    ) -> list[int]:
        params = {
            "fingerprint": fingerprint,
            "now": self._db.encode_time(now),
            "after_id": after_id,
            "limit": limit,
        }
        return sorted(int(r["id"]) for r in self._db.write_rows("retry_error_group", params))

    def _group(self, row: Row) -> ErrorGroupRow:
        first_seen = self._db.parse_time(row["first_seen"]) or datetime.fromtimestamp(0, UTC)
        last = row["last_minute"]
        return from_row(
            ErrorGroupRow,
            row,
            self._db.parse_time,
            failures=int(row["failures"] or 0),
            tasks=int(row["tasks"] or 0),
            last_seen=first_seen if last is None else max(first_seen, self._minute_value(last)),
        )
