"""The schedule and alert verbs both dialects share: reading schedules, the bookmark, pausing,
alert states and the alert log. Syncing definitions and claiming ticks stay with each dialect:
PostgreSQL does each in one statement, SQLite in one transaction under its write lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Generic, TypeVar

from jobdeck.store.base import ScheduleStore
from jobdeck.store.dialect import Statements, where_of
from jobdeck.store.records import AlertRow, ScheduleRow
from jobdeck.store.rows import from_row, schedule_clauses, schedule_from_row

D = TypeVar("D", bound=Statements)


class ScheduleVerbs(ScheduleStore, Generic[D]):
    """The base of each dialect's schedule group; the store sets ``_db``."""

    _db: D

    def list_schedules(
        self, name: str | None = None, active_only: bool = False
    ) -> list[ScheduleRow]:
        where = where_of(self._db, schedule_clauses(name, active_only))
        rows = self._db.read("list_schedules", {"name": name}, where=where)
        return [schedule_from_row(r, self._db.parse_time) for r in rows]

    def advance_schedule(self, name: str, tick_at: datetime) -> None:
        params = {"name": name, "tick_at": self._db.encode_time(tick_at)}
        self._db.write_count("advance_schedule", params)

    def set_schedule_paused(self, name: str, paused: bool, now: datetime) -> bool:
        params = {"name": name, "paused": paused, "now": self._db.encode_time(now)}
        return bool(self._db.write_rows("set_schedule_paused", params))

    def change_alert_state(self, name: str, from_states: Sequence[str], to_state: str) -> bool:
        from_encoded = self._db.encode_list(from_states)
        params = {"name": name, "from_states": from_encoded, "to_state": to_state}
        return bool(self._db.write_rows("change_alert_state", params))

    # -- alerts ------------------------------------------------------------------------------

    def record_alert(
        self, kind: str, subject: str, message: str, details_json: str, now: datetime
    ) -> int:
        params = {
            "kind": kind,
            "subject": subject,
            "message": message,
            "details": details_json,
            "now": self._db.encode_time(now),
        }
        # Not replayed: a first try that committed would leave the alert recorded twice.
        (row,) = self._db.write_rows("record_alert", params, replay_if_lost=False)
        return int(row["id"])

    def mark_alert_delivered(self, alert_id: int, now: datetime, error: str | None) -> None:
        params = {"id": alert_id, "now": self._db.encode_time(now), "error": error}
        self._db.write_count("mark_alert_delivered", params)

    def list_alerts(self, limit: int = 50) -> list[AlertRow]:
        rows = self._db.read("list_alerts", {"limit": limit})
        return [from_row(AlertRow, r, self._db.parse_time) for r in rows]
