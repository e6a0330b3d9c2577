"""The PostgreSQL store's schedule verbs: syncing declared schedules in one statement,
claiming a tick with its job, the bookmark, pausing, alert states, and the alert log."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime

from jobdeck.clock import Clock
from jobdeck.store.base import ScheduleStore
from jobdeck.store.postgres.connection import Connection, from_db
from jobdeck.store.postgres.inserts import insert_on, insert_params
from jobdeck.store.postgres.statements import PgDatabase
from jobdeck.store.records import AlertRow, NewJob, ScheduleDef, ScheduleRow
from jobdeck.store.rows import (
    alert_from_row,
    schedule_clauses,
    schedule_from_row,
    schedule_params,
    where_of,
)

# Only its keys are used: the columns sync_schedules sends even when no schedule is declared.
_NO_SCHEDULE = ScheduleDef(name="", task="", title="")


class PostgresSchedules(ScheduleStore):
    """Mixed into PostgresStore, which sets these:"""

    clock: Clock
    _db: PgDatabase

    def sync_schedules(self, schedules: Sequence[ScheduleDef], now: datetime) -> None:
        # By name, the last definition winning: one upsert statement cannot touch a row twice.
        declared = sorted({d.name: d for d in schedules}.values(), key=lambda d: d.name)
        rows = [schedule_params(d) for d in declared]
        columns = {column: [r[column] for r in rows] for column in schedule_params(_NO_SCHEDULE)}
        self._db.execute("sync_schedules", {**columns, "now": now})

    def list_schedules(
        self, name: str | None = None, active_only: bool = False
    ) -> list[ScheduleRow]:
        where = where_of(self._db, schedule_clauses(name, active_only))
        rows = self._db.rows("list_schedules", {"name": name}, where=where)
        return [schedule_from_row(r, from_db) for r in rows]

    def enqueue_tick(self, schedule: str, tick_at: datetime, job: NewJob) -> int | None:
        """Claim the tick and insert its job in one transaction; None if another scheduler won.

        Replayed after a lost connection: if the first try committed, the replay finds the
        tick taken and answers None, and the job exists once all the same.
        """
        now = self.clock.now()
        # The very columns insert_jobs writes, for a batch of one.
        columns = insert_params([job], now)
        fields = {name: values[0] for name, values in columns.items() if name != "now"}
        params = {
            **fields,
            "job_schedule": fields["schedule"],
            "job_tick_at": fields["tick_at"],
            "schedule": schedule,
            "tick_at": tick_at,
            "now": now,
        }
        q = self._db.q

        def claim(conn: Connection) -> int | None:
            # Without a unique key the statement alone is the transaction: one round trip. With
            # one, the key may be taken by a commit our statement could not see; resolving that
            # needs more statements, so they share a transaction with the claim.
            keyed = job.unique_key is not None
            with conn.transaction() if keyed else nullcontext(), conn.cursor() as cur:
                row = cur.execute(q["enqueue_tick"], params).fetchone()
                if row is None:
                    return None
                job_id, created, existed, _ = row
                if created or existed:
                    return int(job_id)
                (inserted,) = insert_on(conn, q, [job], now)
                cur.execute(
                    q["set_tick_job"],
                    {"schedule": schedule, "tick_at": tick_at, "job_id": inserted.job_id},
                )
                return inserted.job_id

        return self._db.run(claim)

    def advance_schedule(self, name: str, tick_at: datetime) -> None:
        self._db.execute("advance_schedule", {"name": name, "tick_at": tick_at})

    def set_schedule_paused(self, name: str, paused: bool, now: datetime) -> bool:
        params = {"name": name, "paused": paused, "now": now}
        return bool(self._db.rows("set_schedule_paused", params))

    def change_alert_state(self, name: str, from_states: Sequence[str], to_state: str) -> bool:
        params = {"name": name, "from_states": list(from_states), "to_state": to_state}
        return bool(self._db.rows("change_alert_state", params))

    # -- alerts ------------------------------------------------------------------------------

    def record_alert(
        self, kind: str, subject: str, message: str, details_json: str, now: datetime
    ) -> int:
        params = {
            "kind": kind,
            "subject": subject,
            "message": message,
            "details": details_json,
            "now": now,
        }
        # Not replayed: a first try that committed would leave the alert recorded twice.
        return int(self._db.value("record_alert", params, "id", replay_if_lost=False))

    def mark_alert_delivered(self, alert_id: int, now: datetime, error: str | None) -> None:
        self._db.execute("mark_alert_delivered", {"id": alert_id, "now": now, "error": error})

    def list_alerts(self, limit: int = 50) -> list[AlertRow]:
        return [alert_from_row(r, from_db) for r in self._db.rows("list_alerts", {"limit": limit})]
