"""The PostgreSQL store's schedule verbs: the shared ones (store/schedules.py), with syncing
the declared schedules and claiming a tick with its job, each in one statement, and Run Now in
one transaction under an advisory lock on the schedule."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime

from psycopg.rows import dict_row

from jobdeck.clock import Clock, SystemClock
from jobdeck.store.postgres.connection import Connection, from_db
from jobdeck.store.postgres.inserts import insert_on, insert_params
from jobdeck.store.postgres.statements import PgDatabase, one_row
from jobdeck.store.records import ManualRun, ManualRunRequest, NewJob, ScheduleDef
from jobdeck.store.rows import required_time, schedule_params
from jobdeck.store.schedules import (
    ScheduleVerbs,
    held_by_unique_key,
    manual_run_in_the_way,
    new_manual_run,
)

# Only its keys are used: the columns sync_schedules sends even when no schedule is declared.
_NO_SCHEDULE = ScheduleDef(name="", task="", title="")


class PostgresSchedules(ScheduleVerbs[PgDatabase]):
    """Mixed into PostgresStore, which sets the attributes declared here."""

    clock: Clock

    def sync_schedules(self, schedules: Sequence[ScheduleDef], now: datetime) -> None:
        # By name, the last definition winning: one upsert statement cannot touch a row twice.
        declared = sorted({d.name: d for d in schedules}.values(), key=lambda d: d.name)
        rows = [schedule_params(d) for d in declared]
        columns = {column: [r[column] for r in rows] for column in schedule_params(_NO_SCHEDULE)}
        self._db.execute("sync_schedules", {**columns, "now": now})

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

    def enqueue_manual_run(self, request: ManualRunRequest) -> ManualRun:
        """An advisory lock on the schedule, held to the end of the transaction, serialises
        every Run Now of it, from any connection or host; each statement after it reads a
        fresh snapshot (READ COMMITTED), so it sees the run the previous holder committed.
        Not a row lock on ``schedules``: a schedule declared but not synced yet has no row.

        Replayed after a lost connection: if the first try committed, the replay finds that
        run active and answers with it, so the run exists once all the same.
        """
        job = request.job
        q = self._db.q
        by_name = {"schedule": job.schedule}
        # The cooldown is measured by the server's clock, as leases are, unless this store was
        # given a clock of its own (tests move a ManualClock).
        given = None if isinstance(self.clock, SystemClock) else self.clock.now()

        def check_and_insert(conn: Connection) -> ManualRun:
            with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                cur.execute(q["lock_manual_runs"], by_name)
                cur.execute(q["latest_manual_run"], {**by_name, "now": given})
                found = one_row(cur)
                now = required_time(from_db(found["now"]))
                latest = found if found["id"] is not None else None
                existing = manual_run_in_the_way(latest, request, now, from_db)
                if existing is not None:
                    return existing
                (inserted,) = insert_on(conn, q, [job], now)
                if not inserted.created:
                    cur.execute(q["get_job"], {"id": inserted.job_id})
                    return held_by_unique_key(one_row(cur))
                return new_manual_run(inserted.job_id, job, now)

        return self._db.run(check_and_insert)
