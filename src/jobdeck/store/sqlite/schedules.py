"""The SQLite store's schedule verbs: syncing declared schedules, claiming a tick with its job,
the bookmark, pausing, alert states, and the log of alerts sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jobdeck.clock import Clock
from jobdeck.store.base import ScheduleStore
from jobdeck.store.records import AlertRow, NewJob, ScheduleDef, ScheduleRow
from jobdeck.store.rows import (
    alert_from_row,
    schedule_clauses,
    schedule_from_row,
    schedule_params,
    where_of,
)
from jobdeck.store.sqlite.connection import SQLiteDatabase, from_db, json_list, to_db
from jobdeck.store.sqlite.queue import insert_one
from jobdeck.store.sqlite.wake import Wakeups


class SQLiteSchedules(ScheduleStore):
    """Mixed into SQLiteStore, which sets these:"""

    clock: Clock
    _db: SQLiteDatabase
    _wakeups: Wakeups

    def sync_schedules(self, schedules: Sequence[ScheduleDef], now: datetime) -> None:
        with self._db.write() as db:
            for definition in schedules:
                params = {**schedule_params(definition), "now": to_db(now)}
                db.execute(self._db.q["upsert_schedule"], params)
            names = json_list([d.name for d in schedules])
            db.execute(
                self._db.q["deactivate_other_schedules"], {"names": names, "now": to_db(now)}
            )

    def list_schedules(
        self, name: str | None = None, active_only: bool = False
    ) -> list[ScheduleRow]:
        where = where_of(self._db, schedule_clauses(name, active_only))
        rows = self._db.read("list_schedules", {"name": name}, where=where)
        return [schedule_from_row(r, from_db) for r in rows]

    def enqueue_tick(self, schedule: str, tick_at: datetime, job: NewJob) -> int | None:
        """Claim the tick and insert its job in one transaction; None if another scheduler won."""
        now = self.clock.now()
        tick = {"schedule": schedule, "tick_at": to_db(tick_at), "now": to_db(now)}
        with self._db.write() as db:
            if db.execute(self._db.q["claim_tick"], tick).fetchone() is None:
                return None
            inserted = insert_one(db, self._db.q, job, now)
            db.execute(self._db.q["set_tick_job"], {**tick, "job_id": inserted.job_id})
            bookmark = {"name": schedule, "tick_at": to_db(tick_at)}
            db.execute(self._db.q["advance_schedule"], bookmark)
        self._wakeups.notify()
        return inserted.job_id

    def advance_schedule(self, name: str, tick_at: datetime) -> None:
        self._db.write_count("advance_schedule", {"name": name, "tick_at": to_db(tick_at)})

    def set_schedule_paused(self, name: str, paused: bool, now: datetime) -> bool:
        params = {"name": name, "paused": int(paused), "now": to_db(now)}
        return self._db.write_one("set_schedule_paused", params) is not None

    def change_alert_state(self, name: str, from_states: Sequence[str], to_state: str) -> bool:
        params = {"name": name, "from_states": json_list(from_states), "to_state": to_state}
        return self._db.write_one("change_alert_state", params) is not None

    # -- alerts ------------------------------------------------------------------------------

    def record_alert(
        self, kind: str, subject: str, message: str, details_json: str, now: datetime
    ) -> int:
        params = {
            "kind": kind,
            "subject": subject,
            "message": message,
            "details": details_json,
            "now": to_db(now),
        }
        return int(self._db.write_row("record_alert", params)[0])

    def mark_alert_delivered(self, alert_id: int, now: datetime, error: str | None) -> None:
        params = {"id": alert_id, "now": to_db(now), "error": error}
        self._db.write_count("mark_alert_delivered", params)

    def list_alerts(self, limit: int = 50) -> list[AlertRow]:
        return [alert_from_row(r, from_db) for r in self._db.read("list_alerts", {"limit": limit})]
