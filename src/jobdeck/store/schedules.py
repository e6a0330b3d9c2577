"""The schedule and alert verbs both dialects share: reading schedules, the bookmark, pausing,
alert states and the alert log, and the rule Run Now follows. Syncing definitions, claiming
ticks and Run Now's locked check-and-insert stay with each dialect: PostgreSQL does each in one
statement or one locked transaction, SQLite in one transaction under its write lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Generic, TypeVar

from jobdeck.states import JobState
from jobdeck.store.base import ScheduleStore
from jobdeck.store.dialect import Row, Statements, where_of
from jobdeck.store.records import AlertRow, ManualRun, ManualRunRequest, NewJob, ScheduleRow
from jobdeck.store.rows import TimeParser, from_row, schedule_clauses, schedule_from_row

# A manual run in one of these states will still run: Run Now answers with it.
ACTIVE_STATES = frozenset(
    {JobState.SCHEDULED, JobState.AVAILABLE, JobState.RUNNING, JobState.RETRYABLE}
)
# A run that ended in one of these starts the cooldown; a cancelled one never ran, so it does not.
COOLING_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED})

D = TypeVar("D", bound=Statements)


def manual_run_in_the_way(
    latest: Row | None, request: ManualRunRequest, now: datetime, parse_time: TimeParser
) -> ManualRun | None:
    """The run a Run Now answers with instead of inserting one, or None to insert.

    ``latest`` is the schedule's newest manual run as the dialect read it under its lock,
    ``now`` the store's time once the lock was held. Still active: that run, confirmed or not
    (confirming never makes two runs at once). Finished less than the cooldown ago: that run,
    unless the caller confirmed a second one.
    """
    if latest is None:
        return None
    state = JobState(latest["state"])
    if state in ACTIVE_STATES:
        return ManualRun(latest["id"], False, state, refused="active")
    finished_at = parse_time(latest["finished_at"])
    if state not in COOLING_STATES or finished_at is None or request.confirm:
        return None
    left = request.cooldown_seconds - (now - finished_at).total_seconds()
    if left <= 0:
        return None
    return ManualRun(latest["id"], False, state, "cooldown", finished_at, left)


def held_by_unique_key(holder: Row) -> ManualRun:
    """The answer when the insert found Run Now's unique key held: an older manual run made
    active again (a retry by hand) holds it, and that run will run."""
    return ManualRun(holder["id"], False, JobState(holder["state"]), refused="active")


def new_manual_run(job_id: int, job: NewJob, now: datetime) -> ManualRun:
    later = job.run_at is not None and job.run_at > now
    return ManualRun(job_id, True, JobState.SCHEDULED if later else JobState.AVAILABLE)


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
