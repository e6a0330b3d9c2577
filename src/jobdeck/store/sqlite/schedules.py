"""The SQLite store's schedule verbs: the shared ones (store/schedules.py), with syncing the
declared schedules, claiming a tick with its job and Run Now, each one write transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jobdeck.clock import Clock
from jobdeck.store.records import ManualRun, ManualRunRequest, NewJob, ScheduleDef
from jobdeck.store.rows import schedule_params
from jobdeck.store.schedules import (
    ScheduleVerbs,
    held_by_unique_key,
    manual_run_in_the_way,
    new_manual_run,
)
from jobdeck.store.sqlite.connection import SQLiteDatabase, from_db, json_list, to_db
from jobdeck.store.sqlite.queue import insert_one
from jobdeck.store.sqlite.wake import Wakeups


class SQLiteSchedules(ScheduleVerbs[SQLiteDatabase]):
    """Mixed into SQLiteStore, which sets the attributes declared here."""

    clock: Clock
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

    def enqueue_manual_run(self, request: ManualRunRequest) -> ManualRun:
        """The file's write lock serialises every Run Now: the check and the insert are one
        transaction, and the time is read once the lock is held."""
        job = request.job
        with self._db.write() as db:
            now = self.clock.now()
            latest = db.execute(
                self._db.q["latest_manual_run"], {"schedule": job.schedule}
            ).fetchone()
            existing = manual_run_in_the_way(latest, request, now, from_db)
            if existing is not None:
                return existing
            inserted = insert_one(db, self._db.q, job, now)
            if not inserted.created:
                holder = db.execute(self._db.q["get_job"], {"id": inserted.job_id}).fetchone()
                return held_by_unique_key(holder)
        self._wakeups.notify()
        return new_manual_run(inserted.job_id, job, now)
