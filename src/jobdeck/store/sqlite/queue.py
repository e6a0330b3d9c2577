"""The SQLite store's queue verbs: enqueueing, claiming under a lease, finishing, handing back,
rescuing, retrying, cancelling and pruning jobs, and the workers that hold the leases.

Every write takes the file's write lock (see connection.py) and reads the store's clock only
once it holds it, so a verb that waited for the lock still stamps the moment it writes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from jobdeck.clock import Clock
from jobdeck.errors import ConfigError
from jobdeck.states import JobState
from jobdeck.store.base import QueueStore
from jobdeck.store.bulk import batch_where
from jobdeck.store.dependencies import ended_with_children, first_state
from jobdeck.store.insight import read_job
from jobdeck.store.limiting import (
    ClaimLimits,
    admit,
    candidate_from_row,
    limited_scan,
    rate_keys,
    running_counts,
)
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
    LATENCY_SLOT_SECONDS,
    by_claim_order,
    claimed_from_row,
    latency_increments,
    required_time,
    rescued_from_row,
    stats_increments,
    worker_params,
)
from jobdeck.store.sqlite.connection import (
    SQLiteDatabase,
    from_db,
    json_list,
    minute_key,
    to_db,
)
from jobdeck.store.sqlite.dependencies import delete_jobs, linker
from jobdeck.store.sqlite.errorgroups import record_error_groups
from jobdeck.store.sqlite.wake import Wakeups

# Between wake-ups, a waiting worker looks for commits by processes that do not ring this often.
_WAKE_POLL_S = 0.005


class SQLiteQueue(QueueStore):
    """Mixed into SQLiteStore, which sets the attributes declared here."""

    clock: Clock
    _db: SQLiteDatabase
    _wakeups: Wakeups

    # -- producing ---------------------------------------------------------------------------

    def insert_jobs(self, jobs: Sequence[NewJob], conn: Any = None) -> list[InsertResult]:
        if conn is not None:
            raise ConfigError(
                "joining the caller's transaction needs PostgreSQL; SQLite has no _conn"
            )
        now = self.clock.now()
        results = []
        with self._db.write() as db:
            for job in jobs:
                results.append(insert_one(db, self._db.q, job, now))
        if any(r.created for r in results):
            self._wakeups.notify()
        return results

    # -- consuming ---------------------------------------------------------------------------

    def claim_jobs(self, request: ClaimRequest) -> list[ClaimedJob]:
        # A cheap read first: idle workers polling must not take the write lock for nothing.
        due = to_db(self.clock.now())
        if not any(self._db.read("any_due", {"queue": q, "now": due}) for q in request.queues):
            return []
        with self._db.write() as db:
            # The time is read once the lock is ours: a claim that waited for it still gets a
            # whole lease from the moment it is written.
            started = self.clock.now()
            now = to_db(started)
            if request.limits:
                ids = self._admit_limited(db, request, request.limits, started)
            else:
                ids = self._pick_due(db, request.queues, now, request.limit)
            params = {
                "worker_id": request.worker_id,
                "lease_until": to_db(started + timedelta(seconds=request.lease_seconds)),
                "now": now,
                "ids": json_list(ids),
                "labels": request.labels,
            }
            rows = db.execute(self._db.q["claim_jobs"], params).fetchall()
        by_claim_order(rows)
        return [claimed_from_row(r, started, from_db(r["run_at"])) for r in rows]

    def _pick_due(
        self, db: sqlite3.Connection, queues: Sequence[str], now: str | None, limit: int
    ) -> list[int]:
        """The ids to claim: each queue's best jobs, merged by priority then run_at."""
        candidates = []
        for queue in queues:
            params = {"queue": queue, "now": now, "limit": limit}
            candidates += db.execute(self._db.q["due_in_queue"], params).fetchall()
        by_claim_order(candidates)
        return [row["id"] for row in candidates[:limit]]

    def _admit_limited(
        self, db: sqlite3.Connection, request: ClaimRequest, limits: ClaimLimits, now: datetime
    ) -> list[int]:
        """The ids a limited claim takes; the write lock held makes count and claim one step."""
        q = self._db.q
        running = running_counts(db.execute(q["running_by_limit"]).fetchall())
        full = limits.full_queues(running)
        params = {
            "now": to_db(now),
            "limit": limited_scan(request.limit),
            "full_tasks": json_list(limits.full_tasks(running)),
        }
        rows = []
        for queue in request.queues:
            if queue not in full:
                rows += db.execute(q["due_in_queue_limited"], {**params, "queue": queue}).fetchall()
        by_claim_order(rows)
        candidates = [candidate_from_row(r) for r in rows]
        keys = json_list(rate_keys(candidates, limits))
        slots = {
            r["key"]: required_time(from_db(r["next_free_at"]))
            for r in db.execute(q["rate_slots_of"], {"keys": keys})
        }
        admission = admit(candidates, limits, running, slots, now, request.limit)
        db.executemany(
            q["move_rate_slot"],
            [{"key": k, "next_free_at": to_db(t)} for k, t in admission.slots.items()],
        )
        db.executemany(
            q["hold_until"], [{"id": i, "run_at": to_db(t)} for i, t in admission.held.items()]
        )
        return admission.ids

    def complete_jobs(self, worker_id: str, outcomes: Sequence[Outcome], shard: int) -> list[int]:
        if not outcomes:
            return []
        finished_at = [to_db(o.finished_at) for o in outcomes]
        batch = json_list(
            [_outcome_values(o, f) for o, f in zip(outcomes, finished_at, strict=True)]
        )
        with self._db.write() as db:
            params = {"outcomes": batch, "worker_id": worker_id}
            finished = db.execute(self._db.q["finish_jobs"], params).fetchall()
            started_at = {r["id"]: r["started_at"] for r in finished}
            db.executemany(
                self._db.q["insert_attempt"],
                [
                    _attempt_params(o, worker_id, started_at[o.job_id], f)
                    for o, f in zip(outcomes, finished_at, strict=True)
                    if o.job_id in started_at
                ],
            )
            applied = set(started_at)
            increments = stats_increments(outcomes, applied, minute_key)
            db.executemany(self._db.q["add_stats"], [{**inc, "shard": shard} for inc in increments])
            latency = latency_increments(outcomes, applied, _slot_key)
            db.executemany(self._db.q["add_latency"], [{**inc, "shard": shard} for inc in latency])
            record_error_groups(db, self._db.q, outcomes, started_at, shard)
            # Only jobs that some job was enqueued after pay for the settling.
            ended = ended_with_children(finished)
            released = bool(ended) and linker(db, self._db.q, self.clock.now()).settle(ended)
        if released:
            self._wakeups.notify()
        return [o.job_id for o in outcomes if o.job_id in started_at]

    def hand_back_jobs(self, worker_id: str, jobs: Sequence[tuple[int, int]]) -> int:
        handed = 0
        with self._db.write() as db:
            for job_id, attempt in jobs:
                params = {"job_id": job_id, "attempt": attempt, "worker_id": worker_id}
                handed += db.execute(self._db.q["hand_back_job"], params).rowcount
        if handed:
            self._wakeups.notify()
        return handed

    def renew_leases(self, worker_id: str, lease_seconds: float) -> int:
        with self._db.write() as db:
            until = self.clock.now() + timedelta(seconds=lease_seconds)
            params = {"worker_id": worker_id, "until": to_db(until)}
            return db.execute(self._db.q["renew_leases"], params).rowcount

    def rescue_expired(self, skip_worker: str | None = None) -> list[RescuedJob]:
        with self._db.write() as db:
            now = self.clock.now()
            params = {"now": to_db(now), "skip_worker": skip_worker}
            rows = db.execute(self._db.q["rescue_expired"], params).fetchall()
            db.executemany(
                self._db.q["fail_rescued_attempt"],
                [
                    {
                        "job_id": r["id"],
                        "attempt": r["attempt"],
                        "worker_id": r["worker_id"],
                        "started_at": r["started_at"],
                        "now": to_db(now),
                        "duration_ms": r["duration_ms"],
                        "error": r["error"],
                        "status": "cancelled" if r["state"] == "cancelled" else "failed",
                    }
                    for r in rows
                ],
            )
            db.executemany(
                self._db.q["add_stats"],
                [
                    {
                        "minute": minute_key(now),
                        "task": r["task"],
                        "shard": 0,
                        "succeeded": 0,
                        "failed": 1,
                        "duration_ms": r["duration_ms"] or 0,
                    }
                    for r in rows
                ],
            )
            ended = ended_with_children(rows)
            if ended:
                linker(db, self._db.q, now).settle(ended)
        if rows:
            self._wakeups.notify()
        return [rescued_from_row(r) for r in rows]

    def wait_for_jobs(self, timeout: float) -> bool:
        """Block until a job may be due: a ring from an enqueue in any process (see wake.py),
        or else a commit by another process seen on the data_version poll."""
        deadline = time.monotonic() + timeout
        version = self._db.read("data_version")[0][0]
        since = self._wakeups.current()
        while (remaining := deadline - time.monotonic()) > 0:
            if self._wakeups.wait(since, min(remaining, _WAKE_POLL_S)):
                return True
            if self._db.read("data_version")[0][0] != version:
                return True
        return False

    def notify_jobs(self) -> None:
        self._wakeups.notify()

    def wait_for_orders(self, worker_id: str, timeout: float) -> bool:
        time.sleep(timeout)  # not remote: the heartbeat reads the orders
        return False

    def notify_orders(self, worker_id: str) -> None:
        pass  # no order is pushed, so no worker listens for one

    # -- workers -----------------------------------------------------------------------------

    def register_worker(self, info: WorkerInfo) -> None:
        self._db.write_count("register_worker", worker_params(info, to_db))

    def heartbeat_worker(
        self, worker_id: str, at: datetime | None, state: str, clock_offset_ms: int | None = None
    ) -> datetime | None:
        with self._db.write() as db:
            params = {
                "worker_id": worker_id,
                "now": to_db(at or self.clock.now()),
                "state": state,
                "clock_offset_ms": clock_offset_ms,
            }
            row = db.execute(self._db.q["heartbeat_worker"], params).fetchone()
        return from_db(row[0]) if row else None

    def deregister_worker(self, worker_id: str, at: datetime | None = None) -> None:
        with self._db.write() as db:
            params = {"worker_id": worker_id, "now": to_db(at or self.clock.now())}
            db.execute(self._db.q["deregister_worker"], params)

    # -- operating ---------------------------------------------------------------------------

    def retry_job(self, job_id: int, now: datetime) -> JobRow | None:
        changed = self._db.write_one("retry_job", {"id": job_id, "now": to_db(now)})
        if changed:
            self._wakeups.notify()
        return read_job(self._db, job_id) if changed else None

    def cancel_job(
        self, job_id: int, now: datetime, cancelled_by: str | None = None
    ) -> JobRow | None:
        params = {"id": job_id, "now": to_db(now), "cancelled_by": cancelled_by}
        with self._db.write() as db:
            rows = db.execute(self._db.q["cancel_job"], params).fetchall()
            ended = ended_with_children(rows)
            if ended:
                linker(db, self._db.q, now).settle(ended)
        return read_job(self._db, job_id) if rows else None

    def write_reports(self, progress: Sequence[JobProgress], lines: Sequence[LogLine]) -> None:
        if not progress and not lines:
            return
        with self._db.write() as db:
            db.executemany(
                self._db.q["write_progress"],
                [{**vars(p), "updated_at": to_db(p.updated_at)} for p in progress],
            )
            db.executemany(
                self._db.q["append_log_line"], [{**vars(ln), "at": to_db(ln.at)} for ln in lines]
            )

    def prune_finished(self, before: datetime, limit: int) -> int:
        with self._db.write() as db:
            params = {"before": to_db(before), "limit": limit}
            ids = [r[0] for r in db.execute(self._db.q["prunable_jobs"], params)]
            db.execute(self._db.q["delete_attempts_of"], {"ids": json_list(ids)})
            db.execute(self._db.q["delete_reports_of"], {"ids": json_list(ids)})
            db.execute(self._db.q["delete_log_lines_of"], {"ids": json_list(ids)})
            # Finished jobs: their children were settled when they ended.
            db.execute(self._db.q["delete_dependencies_of"], {"ids": json_list(ids)})
            db.execute(self._db.q["delete_dependents_of"], {"ids": json_list(ids)})
            db.execute(self._db.q["delete_search_of"], {"ids": json_list(ids)})
            db.execute(self._db.q["delete_jobs"], {"ids": json_list(ids)})
        return len(ids)

    def act_on_jobs(self, request: BulkRequest) -> BulkBatch:
        found = batch_where(self._db, request)
        if found is None:
            return BulkBatch(0, None)
        where, params = found
        q = self._db.q
        with self._db.write() as db:
            if request.action == "delete":
                rows = db.execute(q["bulk_pick"].format(where=where), params).fetchall()
                delete_jobs(db, q, rows, request.now)
            else:
                sql = q[f"bulk_{request.action}"].format(where=where)
                rows = db.execute(sql, {**params, "cancelled_by": request.actor}).fetchall()
            ended = ended_with_children(rows) if request.action == "cancel" else []
            if ended:
                linker(db, q, request.now).settle(ended)
        ids = [r["id"] for r in rows]
        if ids and request.action == "retry":
            self._wakeups.notify()
        running = sum(1 for r in rows if request.action == "cancel" and r["state"] == "running")
        return BulkBatch(len(ids), max(ids) if ids else None, running)


def insert_one(
    db: sqlite3.Connection, q: Mapping[str, str], job: NewJob, now: datetime
) -> InsertResult:
    """Insert one job inside the caller's write transaction; the job holding its unique key
    when the key is taken. A job with parents (``after``) marks them first and waits for them."""
    run_at = job.run_at or now
    links = linker(db, q, now) if job.after else None
    parents = links.mark_parents(job.after) if links else None
    due = JobState.SCHEDULED if run_at > now else JobState.AVAILABLE
    params = {
        "task": job.task,
        "queue": job.queue,
        "args": job.args_json,
        "labels": job.labels_json,
        "priority": job.priority,
        "max_attempts": job.max_attempts,
        "timeout": job.timeout,
        "state": first_state(parents, due),
        "now": to_db(now),
        "run_at": to_db(run_at),
        "unique_key": job.unique_key,
        "unique_while": job.unique_while,
        "schedule": job.schedule,
        "tick_at": to_db(job.tick_at),
        "trigger": str(job.trigger),
        "triggered_by": job.triggered_by,
    }
    row = db.execute(q["insert_job"], params).fetchone()
    if row is not None:
        if links and parents:
            links.link(row[0], parents)
            if doomed := parents.doomed_by():
                links.cancel_children([doomed])
        return InsertResult(row[0], True)
    # The write lock is held, so the conflicting job cannot finish before we read it.
    existing = db.execute(q["find_by_dedupe_key"], {"key": job.unique_key}).fetchone()
    return InsertResult(existing[0], False)


def _slot_key(moment: datetime) -> int:
    seconds = int(moment.timestamp())
    return seconds - seconds % LATENCY_SLOT_SECONDS


def _outcome_values(outcome: Outcome, finished_at: str | None) -> list[Any]:
    """One element of finish_jobs' :outcomes, in its order (``finished_at`` as to_db has it)."""
    return [
        outcome.job_id,
        outcome.attempt,
        str(outcome.next_state),
        finished_at,
        outcome.duration_ms,
        to_db(outcome.run_at),
        outcome.result_json,
        outcome.summary,
        outcome.error,
        outcome.error_group.fingerprint if outcome.error_group else None,
    ]


def _attempt_params(
    outcome: Outcome, worker_id: str, started_at: str, finished_at: str | None
) -> dict[str, Any]:
    return {
        "job_id": outcome.job_id,
        "attempt": outcome.attempt,
        "worker_id": worker_id,
        "status": str(outcome.status),
        "started_at": started_at,
        "finished_at": finished_at,
        "duration_ms": outcome.duration_ms,
        "error": outcome.error,
        "traceback": outcome.traceback,
        "error_group": outcome.error_group.fingerprint if outcome.error_group else None,
    }
