"""The PostgreSQL store's queue verbs: enqueueing, claiming under a lease, finishing, handing
back, rescuing, retrying, cancelling and pruning jobs, and the workers that hold the leases.

One round trip per hot verb: each is one statement (see sql/postgres/queries.sql) stamped
with the server's clock as it writes, so hosts whose clocks disagree agree on every lease.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import DictRow, dict_row

from jobdeck.clock import Clock, SystemClock
from jobdeck.errors import ConfigError
from jobdeck.latency import bucket_of
from jobdeck.store.base import QueueStore
from jobdeck.store.bulk import batch_where
from jobdeck.store.dependencies import Linker, deleted_parents, ended_with_children
from jobdeck.store.limiting import (
    ClaimLimits,
    admit,
    candidate_from_row,
    limited_scan,
    lock_keys,
    rate_keys,
    running_counts,
)
from jobdeck.store.postgres.connection import Connection
from jobdeck.store.postgres.dependencies import linker
from jobdeck.store.postgres.inserts import insert_on
from jobdeck.store.postgres.statements import PgDatabase
from jobdeck.store.records import (
    BulkBatch,
    BulkRequest,
    ClaimedJob,
    ClaimRequest,
    InsertResult,
    JobProgress,
    JobRow,
    LogLine,
    NewJob,
    Outcome,
    RescuedJob,
    WorkerInfo,
)
from jobdeck.store.rows import (
    by_claim_order,
    claimed_from_row,
    from_row,
    required_time,
    rescued_from_row,
    worker_params,
)


class PostgresQueue(QueueStore):
    """Mixed into PostgresStore, which sets the attributes declared here."""

    clock: Clock
    _db: PgDatabase

    def _now(self) -> datetime | None:
        """The time for a statement to use: None, so that the server reads its own clock as it
        writes, unless this store was given a clock of its own (tests move a ManualClock)."""
        return None if isinstance(self.clock, SystemClock) else self.clock.now()

    # -- producing ---------------------------------------------------------------------------

    def insert_jobs(self, jobs: Sequence[NewJob], conn: Any = None) -> list[InsertResult]:
        """Insert a batch; with ``conn`` the caller's transaction decides (we never commit it).

        Not replayed after a lost connection: the first try may have committed, and jobs
        without a unique key would be inserted twice.
        """
        if not jobs:
            return []
        now = self.clock.now()
        try:
            if conn is None:
                with self._db.checkout() as own:
                    return insert_on(own, self._db.q, jobs, now)
            if not isinstance(conn, psycopg.Connection):
                raise ConfigError(
                    f"conn must be a psycopg.Connection (sync), not {type(conn).__name__}"
                )
            return insert_on(conn, self._db.q, jobs, now)
        except psycopg.Error as exc:
            if conn is not None and isinstance(exc, pg_errors.TransactionRollback):
                raise  # the caller's transaction is aborted: theirs to retry, with its own error
            mapped = self._db.translate(exc)
            if mapped is exc:
                raise
            raise mapped from None

    # -- consuming ---------------------------------------------------------------------------

    def claim_jobs(self, request: ClaimRequest) -> list[ClaimedJob]:
        params = {
            "worker_id": request.worker_id,
            "queues": sorted(set(request.queues)),
            "now": self._now(),
            "lease_seconds": float(request.lease_seconds),
            "limit": request.limit,
            "labels": request.labels,
        }
        if request.limits:
            limits = request.limits
            rows = self._db.run(lambda conn: self._claim_limited(conn, request, limits, params))
        else:
            rows = self._db.rows("claim_jobs", params)
        by_claim_order(rows)
        parse = self._db.parse_time
        return [
            claimed_from_row(r, required_time(parse(r["started_at"])), parse(r["run_at"]))
            for r in rows
        ]

    def _claim_limited(
        self,
        conn: Connection,
        request: ClaimRequest,
        limits: ClaimLimits,
        params: dict[str, Any],
    ) -> list[DictRow]:
        """One transaction: lock the candidates (SKIP LOCKED), then their limits' keys in
        sorted order, count what runs once they are ours, and claim what fits."""
        q = self._db.q
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            now = cur.execute(q["limits_now"], {"now": params["now"]}).fetchone()
            moment = required_time(self._db.parse_time(now["now"] if now else None))
            before = running_counts(cur.execute(q["running_by_limit"]).fetchall())
            full = limits.full_queues(before)
            scan = {
                "now": moment,
                "limit": limited_scan(request.limit),
                "full_tasks": limits.full_tasks(before),
            }
            rows: list[DictRow] = []
            for queue in sorted(set(request.queues) - full):
                rows += cur.execute(q["due_in_queue_limited"], {**scan, "queue": queue}).fetchall()
            by_claim_order(rows)
            candidates = [candidate_from_row(r) for r in rows]
            for key in lock_keys(candidates, limits):
                cur.execute(q["lock_limit"], {"key": key})
            # Counted again in a statement of its own: it sees every claim that held these
            # locks before us, committed (read committed takes a new snapshot per statement).
            running = running_counts(cur.execute(q["running_by_limit"]).fetchall())
            # The time again, now that the locks are ours: rate slots are spaced from it.
            now = cur.execute(q["limits_now"], {"now": params["now"]}).fetchone()
            moment = required_time(self._db.parse_time(now["now"] if now else None))
            keys = rate_keys(candidates, limits)
            slots = {
                r["key"]: required_time(self._db.parse_time(r["next_free_at"]))
                for r in cur.execute(q["rate_slots_of"], {"keys": keys}).fetchall()
            }
            admission = admit(candidates, limits, running, slots, moment, request.limit)
            for key, free_at in sorted(admission.slots.items()):
                cur.execute(q["move_rate_slot"], {"key": key, "next_free_at": free_at})
            for job_id, run_at in sorted(admission.held.items()):
                cur.execute(q["hold_until"], {"id": job_id, "run_at": run_at})
            if not admission.ids:
                return []
            return cur.execute(q["claim_admitted"], {**params, "ids": admission.ids}).fetchall()

    def complete_jobs(self, worker_id: str, outcomes: Sequence[Outcome], shard: int) -> list[int]:
        if not outcomes:
            return []
        ordered = sorted(outcomes, key=lambda o: o.job_id)
        params = _completion_params(worker_id, ordered, shard)
        applied = {r["id"] for r in self._db.rows("complete_jobs", params)}
        left = [o for o in ordered if o.job_id not in applied]
        if left:
            # Jobs with children (or late outcomes the fence refuses again, a rare waste).
            applied |= self._complete_with_children(worker_id, left, shard)
        return [o.job_id for o in outcomes if o.job_id in applied]

    def _complete_with_children(
        self, worker_id: str, ordered: Sequence[Outcome], shard: int
    ) -> set[int]:
        params = {**_completion_params(worker_id, ordered, shard), "with_children": True}
        q = self._db.q

        def finish(conn: Connection) -> set[int]:
            with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(q["complete_jobs"], params).fetchall()
                ended = ended_with_children(rows)
                if ended:
                    linker(cur, q, self._now()).settle(ended)
            return {int(r["id"]) for r in rows}

        return self._db.run(finish)

    def hand_back_jobs(self, worker_id: str, jobs: Sequence[tuple[int, int]]) -> int:
        if not jobs:
            return 0
        params = {
            "worker_id": worker_id,
            "job_id": [j for j, _ in jobs],
            "attempt": [a for _, a in jobs],
        }
        return int(self._db.value("hand_back_jobs", params, "handed"))

    def renew_leases(self, worker_id: str, lease_seconds: float) -> int:
        params = {"worker_id": worker_id, "now": self._now(), "lease_seconds": float(lease_seconds)}
        return self._db.write_count("renew_leases", params)

    def rescue_expired(self, skip_worker: str | None = None) -> list[RescuedJob]:
        params = {"now": self._now(), "skip_worker": skip_worker}
        rows = self._settling("rescue_expired", params)
        return [rescued_from_row(r) for r in rows]

    def _settling(
        self, query: str, params: dict[str, Any], where: str | None = None
    ) -> list[DictRow]:
        """One statement that may end jobs (returning id, state, has_children), and the
        settling of the children of those that ended, in one transaction."""
        q = self._db.q
        sql = q[query] if where is None else q[query].format(where=where)

        def run(conn: Connection) -> list[DictRow]:
            with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(sql, params).fetchall()
                links = linker(cur, q, self._now())
                if query == "bulk_delete":
                    _forget(cur, q, rows, links)
                elif ended := ended_with_children(rows):
                    links.settle(ended)
            return rows

        return self._db.run(run)

    def wait_for_jobs(self, timeout: float) -> bool:
        """Block until a NOTIFY on ``jobdeck_jobs`` arrives (True) or ``timeout`` passes (False)."""
        return self._db.wait_for_notify(timeout)

    def notify_jobs(self) -> None:
        self._db.execute("notify_jobs", None)

    def wait_for_orders(self, worker_id: str, timeout: float) -> bool:
        return self._db.wait_for_notify(timeout, "orders", lambda to: to in ("", worker_id))

    def notify_orders(self, worker_id: str) -> None:
        self._db.execute("notify_orders", {"worker_id": worker_id})

    # -- workers -----------------------------------------------------------------------------

    def register_worker(self, info: WorkerInfo) -> None:
        self._db.execute("register_worker", worker_params(info, lambda moment: moment))

    def heartbeat_worker(
        self, worker_id: str, at: datetime | None, state: str, clock_offset_ms: int | None = None
    ) -> datetime | None:
        params = {
            "worker_id": worker_id,
            "now": at or self._now(),
            "state": state,
            "clock_offset_ms": clock_offset_ms,
        }
        rows = self._db.rows("heartbeat_worker", params)
        return self._db.parse_time(rows[0]["last_heartbeat"]) if rows else None

    def deregister_worker(self, worker_id: str, at: datetime | None = None) -> None:
        self._db.execute("deregister_worker", {"worker_id": worker_id, "now": at or self._now()})

    # -- operating ---------------------------------------------------------------------------

    def retry_job(self, job_id: int, now: datetime) -> JobRow | None:
        rows = self._db.rows("retry_job", {"id": job_id, "now": now})
        return from_row(JobRow, rows[0], self._db.parse_time) if rows else None

    def cancel_job(
        self, job_id: int, now: datetime, cancelled_by: str | None = None
    ) -> JobRow | None:
        params = {"id": job_id, "now": now, "cancelled_by": cancelled_by}
        rows = self._settling("cancel_job", params)
        return from_row(JobRow, rows[0], self._db.parse_time) if rows else None

    def write_reports(self, progress: Sequence[JobProgress], lines: Sequence[LogLine]) -> None:
        if not progress and not lines:
            return
        params = {
            "p_job_id": [p.job_id for p in progress],
            "p_attempt": [p.attempt for p in progress],
            "p_done": [p.done for p in progress],
            "p_total": [p.total for p in progress],
            "p_note": [p.note for p in progress],
            "p_updated_at": [p.updated_at for p in progress],
            "l_job_id": [ln.job_id for ln in lines],
            "l_attempt": [ln.attempt for ln in lines],
            "l_at": [ln.at for ln in lines],
            "l_level": [ln.level for ln in lines],
            "l_message": [ln.message for ln in lines],
        }
        self._db.rows("write_reports", params, replay_if_lost=False)

    def prune_finished(self, before: datetime, limit: int) -> int:
        return int(self._db.value("prune_finished", {"before": before, "limit": limit}, "n"))

    def act_on_jobs(self, request: BulkRequest) -> BulkBatch:
        found = batch_where(self._db, request)
        if found is None:
            return BulkBatch(0, None)
        where, params = found
        query = f"bulk_{request.action}"
        if request.action == "retry":
            rows = self._db.rows(query, params, where=where)
        else:
            rows = self._settling(query, {**params, "cancelled_by": request.actor}, where)
        ids = [int(r["id"]) for r in rows]
        if ids and request.action == "retry":
            self.notify_jobs()
        running = sum(1 for r in rows if request.action == "cancel" and r["state"] == "running")
        return BulkBatch(len(ids), max(ids) if ids else None, running)


def _forget(
    cur: psycopg.Cursor[DictRow], q: Mapping[str, str], rows: list[DictRow], links: Linker
) -> None:
    """After a bulk delete: children waiting on an unfinished deleted job end cancelled, then
    the deleted jobs' links go (cancelling reads them)."""
    parents = deleted_parents(rows)
    if parents:
        links.cancel_children(parents)
    cur.execute(q["delete_dependencies_of"], {"ids": [int(r["id"]) for r in rows]})


def _completion_params(worker_id: str, ordered: Sequence[Outcome], shard: int) -> dict[str, Any]:
    """complete_jobs' parameters: one array per outcome field, in job id order."""
    return {
        "worker_id": worker_id,
        "shard": shard,
        "with_children": False,
        "job_id": [o.job_id for o in ordered],
        "attempt": [o.attempt for o in ordered],
        "status": [str(o.status) for o in ordered],
        "next_state": [str(o.next_state) for o in ordered],
        "finished_at": [o.finished_at for o in ordered],
        "duration_ms": [o.duration_ms for o in ordered],
        "run_at": [o.run_at for o in ordered],
        "result": [o.result_json for o in ordered],
        "summary": [o.summary for o in ordered],
        "error": [o.error for o in ordered],
        "traceback": [o.traceback for o in ordered],
        "wait_ms": [o.wait_ms for o in ordered],
        # Buckets are found here, by the same function as SQLite's: one definition of them.
        "wait_bucket": [None if o.wait_ms is None else bucket_of(o.wait_ms) for o in ordered],
        "duration_bucket": [bucket_of(o.duration_ms) for o in ordered],
        **_error_groups(ordered),
    }


def _error_groups(ordered: Sequence[Outcome]) -> dict[str, list[str | None]]:
    """complete_jobs' error-group arrays (migration 0011): None for every success."""
    keys = [o.error_group for o in ordered]
    return {
        "error_group": [k.fingerprint if k else None for k in keys],
        "group_exception": [k.exception if k else None for k in keys],
        "group_title": [k.title if k else None for k in keys],
        "group_frame": [k.frame if k else None for k in keys],
    }
