"""The embedded store: one SQLite file in WAL mode, shared by the processes of one machine."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jobdeck.clock import Clock, SystemClock
from jobdeck.errors import ConfigError, JobDeckError, SchemaError, StoreUnavailable
from jobdeck.states import JobState
from jobdeck.store.base import (
    AlertRow,
    AttemptRow,
    ClaimedJob,
    ClaimRequest,
    InsertResult,
    JobFilter,
    JobRow,
    NewJob,
    Outcome,
    RescuedJob,
    ScheduleDef,
    ScheduleRow,
    SchemaStatus,
    StatsRow,
    WorkerInfo,
)
from jobdeck.store.listing import list_page
from jobdeck.store.queries import load_migrations, load_queries, split_statements
from jobdeck.store.rows import (
    alert_from_row,
    attempt_from_row,
    filter_clauses,
    job_from_row,
    schedule_from_row,
    schedule_params,
    stats_increments,
)
from jobdeck.store.sqlite_access import SQLiteAccessVerbs
from jobdeck.store.sqlite_wake import WakeChannel

# Writers queue on SQLite's lock; past this many seconds a busy database is reported, not hidden.
_BUSY_TIMEOUT_S = 30.0
_WAKE_POLL_S = 0.005
_SYNC_QUERIES = ("synchronous=normal", "synchronous=full")


def to_db(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # isoformat pads the year to four digits; strftime("%Y") writes year 1 as "1", which
    # sorts after "2026" and breaks every text comparison of times before the year 1000.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def from_db(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _minute_key(moment: datetime) -> int:
    seconds = int(moment.timestamp())
    return seconds - seconds % 60


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class _Wakeups:
    """Per database file in this process: wake-ups (an enqueue here wakes this process's
    waiting workers at once) and the write lock (threads of one process queue here, woken
    the moment the lock is free, instead of sleeping in SQLite's busy handler)."""

    def __init__(self, path: Path) -> None:
        self.condition = threading.Condition()
        self.generation = 0
        self.write_lock = threading.RLock()
        self.channel = WakeChannel(path)  # and the other processes' workers

    def notify(self) -> None:
        with self.condition:
            self.generation += 1
            self.condition.notify_all()
        self.channel.ring()

    def current(self) -> int:
        with self.condition:
            return self.generation

    def wait(self, since: int, timeout: float) -> bool:
        """True once woken after generation ``since``: by a ring on this process's socket, or
        by a notify here (it rings too, but another thread waiting here may take that ring).
        Without a socket, the condition alone is waited on."""
        listener = self.channel.listener()
        if listener is not None and self.channel.wait(listener, timeout):
            return True
        with self.condition:
            if listener is None and self.generation == since:
                self.condition.wait(timeout)
            return self.generation != since


_wakeups_by_path: dict[Path, _Wakeups] = {}
_wakeups_lock = threading.Lock()


def _wakeups_for(path: Path) -> _Wakeups:
    with _wakeups_lock:
        if path not in _wakeups_by_path:
            _wakeups_by_path[path] = _Wakeups(path)
        return _wakeups_by_path[path]


def parse_sqlite_url(url: str) -> Path:
    parts = urlsplit(url)
    if parts.query and parts.query.lower() not in _SYNC_QUERIES:
        raise ConfigError(f"unknown SQLite URL option {parts.query!r}: only ?synchronous=normal")
    path = unquote(parts.path)
    if parts.netloc or not path.startswith("/") or len(path) < 2:
        raise ConfigError(
            f"invalid SQLite URL {url!r}: use sqlite:///relative/file.db or sqlite:////absolute/file.db"
        )
    if path[1:] == ":memory:":
        raise ConfigError(
            "in-memory SQLite cannot be shared by workers: use a file, sqlite:///jobs.db"
        )
    return Path(path[1:])


class SQLiteStore(SQLiteAccessVerbs):
    dialect = "sqlite"

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock = clock or SystemClock()
        self.path = parse_sqlite_url(url).resolve()
        self.synchronous = "NORMAL" if "synchronous=normal" in url.lower() else "FULL"
        if not self.path.parent.exists():
            raise StoreUnavailable(
                f"cannot open {self.path}: folder {self.path.parent} does not exist"
            )
        self._q = load_queries("sqlite")
        self._local = threading.local()
        self._all_connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._wakeups = _wakeups_for(self.path)

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit (an enqueue, a result) is on disk before we return, even if the OS
            # crashes. NORMAL is faster and survives process crashes only; it is opt-in.
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from None
        with self._connections_lock:
            self._all_connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that locks up front, so readers never deadlock on upgrade.

        For the store's own statements: any failure of the database (a full disk, an I/O error,
        a read-only file) leaves as StoreUnavailable, whether it came from a statement or from
        the COMMIT.
        """
        conn = self._conn()
        with self._wakeups.write_lock, self._begun(conn, translate=True) as began:
            yield began

    @contextmanager
    def _begun(self, conn: sqlite3.Connection, translate: bool) -> Iterator[sqlite3.Connection]:
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.Error as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise _unavailable(self.path, exc) from None
                time.sleep(0.01)
        try:
            yield conn
        except BaseException as exc:
            self._roll_back(conn)
            if translate and isinstance(exc, sqlite3.Error) and _is_the_databases(exc):
                raise _unavailable(self.path, exc) from None
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._roll_back(conn)
            raise _unavailable(self.path, exc) from None

    def _roll_back(self, conn: sqlite3.Connection) -> None:
        """End a failed transaction. After a full disk or an I/O error SQLite may have rolled
        it back already (a ROLLBACK then fails: "no transaction is active"); a connection that
        cannot roll back is closed, and this thread opens a fresh one on its next call."""
        if not conn.in_transaction:
            return
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            self._discard(conn)

    def _discard(self, conn: sqlite3.Connection) -> None:
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._connections_lock:
            if conn in self._all_connections:
                self._all_connections.remove(conn)
        with contextlib.suppress(sqlite3.Error):
            conn.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        # The caller's own SQL: its errors are theirs and pass through as sqlite3 raised them;
        # a COMMIT the database refuses is StoreUnavailable.
        return self._own_transaction()

    @contextmanager
    def _own_transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        with self._wakeups.write_lock, self._begun(conn, translate=False) as began:
            yield began

    def _read(self, name: str, params: dict[str, Any] | None = None, **fmt: str) -> list[Any]:
        sql = self._q[name].format(**fmt) if fmt else self._q[name]
        try:
            return self._conn().execute(sql, params or {}).fetchall()
        except sqlite3.Error as exc:
            if not _is_the_databases(exc):
                raise
            raise _unavailable(self.path, exc) from None

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._all_connections:
                conn.close()
            self._all_connections.clear()
        self._local = threading.local()

    # -- schema ------------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        applied = []
        with self._write() as conn:
            conn.execute(self._q["create_migrations_table"])
            current = conn.execute(self._q["schema_version"]).fetchone()[0]
            for migration in load_migrations(self.dialect):
                if migration.version <= current:
                    continue
                for statement in split_statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    self._q["record_migration"],
                    {
                        "version": migration.version,
                        "name": migration.name,
                        "now": to_db(self.clock.now()),
                    },
                )
                applied.append(f"{migration.version:04d}_{migration.name}")
        return applied

    def schema_status(self) -> SchemaStatus:
        migrations = load_migrations(self.dialect)
        exists = self._read("migrations_table_exists")
        current = self._read("schema_version")[0][0] if exists else 0
        pending = [f"{m.version:04d}_{m.name}" for m in migrations if m.version > current]
        return SchemaStatus(current, migrations[-1].version, pending)

    def check_schema(self) -> None:
        status = self.schema_status()
        if status.current < status.latest:
            raise SchemaError(
                f"database {self.path} is at schema {status.current}, this jobdeck needs "
                f"{status.latest}: run `jobdeck db migrate`"
            )
        if status.current > status.latest:
            raise SchemaError(
                f"database {self.path} is at schema {status.current}, newer than this jobdeck "
                f"({status.latest}): upgrade jobdeck"
            )

    # -- producing ---------------------------------------------------------------------------

    def insert_jobs(self, jobs: Sequence[NewJob], conn: Any = None) -> list[InsertResult]:
        if conn is not None:
            raise ConfigError(
                "joining the caller's transaction needs PostgreSQL; SQLite has no _conn"
            )
        now = self.clock.now()
        results = []
        with self._write() as db:
            for job in jobs:
                results.append(self._insert_one(db, job, now))
        if any(r.created for r in results):
            self._wakeups.notify()
        return results

    def _insert_one(self, db: sqlite3.Connection, job: NewJob, now: datetime) -> InsertResult:
        run_at = job.run_at or now
        params = {
            "task": job.task,
            "queue": job.queue,
            "args": job.args_json,
            "labels": job.labels_json,
            "priority": job.priority,
            "max_attempts": job.max_attempts,
            "timeout": job.timeout,
            "state": JobState.SCHEDULED if run_at > now else JobState.AVAILABLE,
            "now": to_db(now),
            "run_at": to_db(run_at),
            "unique_key": job.unique_key,
            "unique_while": job.unique_while,
            "schedule": job.schedule,
            "tick_at": to_db(job.tick_at),
            "trigger": str(job.trigger),
            "triggered_by": job.triggered_by,
        }
        row = db.execute(self._q["insert_job"], params).fetchone()
        if row is not None:
            return InsertResult(row[0], True)
        # The write lock is held, so the conflicting job cannot finish before we read it.
        existing = db.execute(self._q["find_by_dedupe_key"], {"key": job.unique_key}).fetchone()
        return InsertResult(existing[0], False)

    # -- consuming ---------------------------------------------------------------------------

    def claim_jobs(self, request: ClaimRequest) -> list[ClaimedJob]:
        # A cheap read first: idle workers polling must not take the write lock for nothing.
        due = to_db(self.clock.now())
        if not any(self._read("any_due", {"queue": q, "now": due}) for q in request.queues):
            return []
        with self._write() as db:
            # The time is read once the lock is ours: a claim that waited for it still gets a
            # whole lease from the moment it is written.
            started = self.clock.now()
            now = to_db(started)
            ids = self._pick_due(db, request.queues, now, request.limit)
            params = {
                "worker_id": request.worker_id,
                "lease_until": to_db(started + timedelta(seconds=request.lease_seconds)),
                "now": now,
                "ids": json.dumps(ids),
            }
            rows = db.execute(self._q["claim_jobs"], params).fetchall()
            # RETURNING does not keep the subquery's order; run in priority order all the same.
            rows.sort(key=lambda r: (-r["priority"], r["run_at"], r["id"]))
        return [
            ClaimedJob(
                r["id"],
                r["task"],
                r["queue"],
                r["args"],
                r["attempt"],
                r["max_attempts"],
                r["timeout"],
                started,
            )
            for r in rows
        ]

    def _pick_due(
        self, db: sqlite3.Connection, queues: Sequence[str], now: str | None, limit: int
    ) -> list[int]:
        """The ids to claim: each queue's best jobs, merged by priority then run_at."""
        candidates = []
        for queue in queues:
            params = {"queue": queue, "now": now, "limit": limit}
            candidates += db.execute(self._q["due_in_queue"], params).fetchall()
        candidates.sort(key=lambda r: (-r["priority"], r["run_at"], r["id"]))
        return [row["id"] for row in candidates[:limit]]

    def complete_jobs(self, worker_id: str, outcomes: Sequence[Outcome], shard: int) -> list[int]:
        if not outcomes:
            return []
        batch = json.dumps([_outcome_values(o) for o in outcomes])
        with self._write() as db:
            params = {"outcomes": batch, "worker_id": worker_id}
            started_at = dict(db.execute(self._q["finish_jobs"], params).fetchall())
            db.executemany(
                self._q["insert_attempt"],
                [
                    _attempt_params(o, worker_id, started_at[o.job_id])
                    for o in outcomes
                    if o.job_id in started_at
                ],
            )
            increments = stats_increments(outcomes, set(started_at), _minute_key)
            db.executemany(self._q["add_stats"], [{**inc, "shard": shard} for inc in increments])
        return [o.job_id for o in outcomes if o.job_id in started_at]

    def hand_back_jobs(self, worker_id: str, jobs: Sequence[tuple[int, int]]) -> int:
        handed = 0
        with self._write() as db:
            for job_id, attempt in jobs:
                params = {"job_id": job_id, "attempt": attempt, "worker_id": worker_id}
                handed += db.execute(self._q["hand_back_job"], params).rowcount
        if handed:
            self._wakeups.notify()
        return handed

    def renew_leases(self, worker_id: str, lease_seconds: float) -> int:
        with self._write() as db:
            until = self.clock.now() + timedelta(seconds=lease_seconds)
            params = {"worker_id": worker_id, "until": to_db(until)}
            return db.execute(self._q["renew_leases"], params).rowcount

    def rescue_expired(self, skip_worker: str | None = None) -> list[RescuedJob]:
        with self._write() as db:
            now = self.clock.now()
            params = {"now": to_db(now), "skip_worker": skip_worker}
            rows = db.execute(self._q["rescue_expired"], params).fetchall()
            db.executemany(
                self._q["fail_rescued_attempt"],
                [
                    {
                        "job_id": r["id"],
                        "attempt": r["attempt"],
                        "worker_id": r["worker_id"],
                        "started_at": r["started_at"],
                        "now": to_db(now),
                        "duration_ms": r["duration_ms"],
                        "error": r["error"],
                    }
                    for r in rows
                ],
            )
            db.executemany(
                self._q["add_stats"],
                [
                    {
                        "minute": _minute_key(now),
                        "task": r["task"],
                        "shard": 0,
                        "succeeded": 0,
                        "failed": 1,
                        "duration_ms": r["duration_ms"] or 0,
                    }
                    for r in rows
                ],
            )
        if rows:
            self._wakeups.notify()
        return [
            RescuedJob(r["id"], r["task"], r["attempt"], JobState(r["state"]), r["worker_id"])
            for r in rows
        ]

    def wait_for_jobs(self, timeout: float) -> bool:
        """Block until a job may be due: a ring from an enqueue in any process (see
        sqlite_wake), or else a commit by another process seen on the data_version poll."""
        deadline = time.monotonic() + timeout
        version = self._read("data_version")[0][0]
        since = self._wakeups.current()
        while (remaining := deadline - time.monotonic()) > 0:
            if self._wakeups.wait(since, min(remaining, _WAKE_POLL_S)):
                return True
            if self._read("data_version")[0][0] != version:
                return True
        return False

    def notify_jobs(self) -> None:
        self._wakeups.notify()

    # -- workers -----------------------------------------------------------------------------

    def register_worker(self, info: WorkerInfo) -> None:
        with self._write() as db:
            db.execute(
                self._q["register_worker"],
                {
                    "id": info.id,
                    "host": info.host,
                    "pid": info.pid,
                    "queues": json.dumps(list(info.queues)),
                    "concurrency": info.concurrency,
                    "version": info.version,
                    "started_at": to_db(info.started_at),
                    "last_heartbeat": to_db(info.last_heartbeat),
                    "state": info.state,
                },
            )

    def heartbeat_worker(
        self,
        worker_id: str,
        at: datetime | None,
        state: str,
        clock_offset_ms: int | None = None,
    ) -> datetime | None:
        with self._write() as db:
            params = {
                "worker_id": worker_id,
                "now": to_db(at or self.clock.now()),
                "state": state,
                "clock_offset_ms": clock_offset_ms,
            }
            row = db.execute(self._q["heartbeat_worker"], params).fetchone()
        return from_db(row[0]) if row else None

    def deregister_worker(self, worker_id: str, at: datetime | None = None) -> None:
        with self._write() as db:
            params = {"worker_id": worker_id, "now": to_db(at or self.clock.now())}
            db.execute(self._q["deregister_worker"], params)

    def list_workers(self, since: datetime | None = None) -> list[WorkerInfo]:
        rows = self._read("list_workers", {"since": to_db(since) or ""})
        return [
            WorkerInfo(
                r["id"],
                r["host"],
                r["pid"],
                json.loads(r["queues"]),
                r["concurrency"],
                _req(from_db(r["started_at"])),
                _req(from_db(r["last_heartbeat"])),
                r["state"],
                r["version"],
                r["clock_offset_ms"],
            )
            for r in rows
        ]

    # -- reading -----------------------------------------------------------------------------

    def get_job(self, job_id: int) -> JobRow | None:
        rows = self._read("get_job", {"id": job_id})
        return job_from_row(rows[0], from_db) if rows else None

    def get_attempts(self, job_id: int) -> list[AttemptRow]:
        return [
            attempt_from_row(r, from_db) for r in self._read("get_attempts", {"job_id": job_id})
        ]

    def list_jobs(
        self, filters: JobFilter, before_id: int | None, limit: int, after_id: int | None = None
    ) -> list[JobRow]:
        newest_first = after_id is None
        query = "list_jobs" if newest_first else "list_jobs_ascending"

        def one_branch(branch: JobFilter) -> list[JobRow]:
            where, params = self._where(branch, before_id, after_id)
            rows = self._read(query, {**params, "limit": limit}, where=where)
            return [job_from_row(r, from_db) for r in rows]

        return list_page(
            filters,
            limit,
            newest_first,
            query=one_branch,
            id_bounds=self._id_bounds,
            probe=self._job_at_or_after,
        )

    def _id_bounds(self) -> tuple[int, int] | None:
        low, high = self._read("job_id_bounds")[0]
        return None if low is None else (int(low), int(high))

    def _job_at_or_after(self, job_id: int) -> tuple[int, datetime] | None:
        rows = self._read("job_at_or_after", {"id": job_id})
        return (rows[0][0], _req(from_db(rows[0][1]))) if rows else None

    def count_jobs(self, filters: JobFilter) -> int:
        where, params = self._where(filters, None)
        return int(self._read("count_jobs", params, where=where)[0][0])

    def _where(
        self, filters: JobFilter, before_id: int | None, after_id: int | None = None
    ) -> tuple[str, dict[str, Any]]:
        names = filter_clauses(filters, before_id, after_id, single_values=True)
        clauses = [self._q[name] for name in names]
        params = {
            "states": json.dumps(sorted(filters.states or [])),
            "tasks": json.dumps(list(filters.tasks or [])),
            "state": next(iter(filters.states), None) if filters.states else None,
            "task": filters.tasks[0] if filters.tasks else None,
            "queue": filters.queue,
            "schedule": filters.schedule,
            "enqueued_from": to_db(filters.enqueued_from),
            "enqueued_to": to_db(filters.enqueued_to),
            "after_id": after_id,
            "min_id": filters.min_id,
            "max_id": filters.max_id,
            "before_id": before_id,
        }
        return " AND ".join(clauses) or "1 = 1", params

    def count_by_state(self) -> dict[JobState, int]:
        return {JobState(state): count for state, count in self._read("count_by_state")}

    def task_names(self) -> list[str]:
        return sorted(row[0] for row in self._read("task_names"))

    def stats_series(self, since: datetime, until: datetime, bucket_seconds: int) -> list[StatsRow]:
        rows = self._read(
            "stats_series",
            {"since": _epoch(since), "until": _epoch(until), "bucket": bucket_seconds},
        )
        return [
            StatsRow(datetime.fromtimestamp(b, UTC).isoformat(), s, f, d) for b, s, f, d in rows
        ]

    def stats_by_task(self, since: datetime, until: datetime) -> list[StatsRow]:
        rows = self._read("stats_by_task", {"since": _epoch(since), "until": _epoch(until)})
        return [StatsRow(task, s, f, d) for task, s, f, d in rows]

    # -- operating ---------------------------------------------------------------------------

    def retry_job(self, job_id: int, now: datetime) -> JobRow | None:
        return self._transition("retry_job", job_id, now)

    def cancel_job(self, job_id: int, now: datetime) -> JobRow | None:
        return self._transition("cancel_job", job_id, now)

    def _transition(self, query: str, job_id: int, now: datetime) -> JobRow | None:
        with self._write() as db:
            changed = db.execute(self._q[query], {"id": job_id, "now": to_db(now)}).fetchone()
        if changed and query == "retry_job":
            self._wakeups.notify()
        return self.get_job(job_id) if changed else None

    def compact_stats(self, before: datetime) -> int:
        with self._write() as db:
            db.execute(self._q["compact_stats_fold"], {"before": _epoch(before)})
            return db.execute(self._q["compact_stats_delete"], {"before": _epoch(before)}).rowcount

    def prune_finished(self, before: datetime, limit: int) -> int:
        with self._write() as db:
            ids = [
                r[0]
                for r in db.execute(
                    self._q["prunable_jobs"], {"before": to_db(before), "limit": limit}
                )
            ]
            encoded = json.dumps(ids)
            db.execute(self._q["delete_attempts_of"], {"ids": encoded})
            db.execute(self._q["delete_jobs"], {"ids": encoded})
        return len(ids)

    # -- schedules ---------------------------------------------------------------------------

    def sync_schedules(self, schedules: Sequence[ScheduleDef], now: datetime) -> None:
        with self._write() as db:
            for definition in schedules:
                db.execute(
                    self._q["upsert_schedule"], {**schedule_params(definition), "now": to_db(now)}
                )
            names = json.dumps([d.name for d in schedules])
            db.execute(self._q["deactivate_other_schedules"], {"names": names, "now": to_db(now)})

    def list_schedules(
        self, name: str | None = None, active_only: bool = False
    ) -> list[ScheduleRow]:
        clauses = []
        if name is not None:
            clauses.append(self._q["where_schedule_name"])
        if active_only:
            clauses.append(self._q["where_schedule_active"])
        rows = self._read("list_schedules", {"name": name}, where=" AND ".join(clauses) or "1 = 1")
        return [schedule_from_row(r, from_db) for r in rows]

    def enqueue_tick(self, schedule: str, tick_at: datetime, job: NewJob) -> int | None:
        """Claim the tick and insert its job in one transaction; None if another scheduler won."""
        now = self.clock.now()
        tick = {"schedule": schedule, "tick_at": to_db(tick_at), "now": to_db(now)}
        with self._write() as db:
            if db.execute(self._q["claim_tick"], tick).fetchone() is None:
                return None
            inserted = self._insert_one(db, job, now)
            db.execute(self._q["set_tick_job"], {**tick, "job_id": inserted.job_id})
            db.execute(self._q["advance_schedule"], {"name": schedule, "tick_at": to_db(tick_at)})
        self._wakeups.notify()
        return inserted.job_id

    def advance_schedule(self, name: str, tick_at: datetime) -> None:
        with self._write() as db:
            db.execute(self._q["advance_schedule"], {"name": name, "tick_at": to_db(tick_at)})

    def set_schedule_paused(self, name: str, paused: bool, now: datetime) -> bool:
        with self._write() as db:
            params = {"name": name, "paused": int(paused), "now": to_db(now)}
            return db.execute(self._q["set_schedule_paused"], params).fetchone() is not None

    def change_alert_state(self, name: str, from_states: Sequence[str], to_state: str) -> bool:
        with self._write() as db:
            params = {
                "name": name,
                "from_states": json.dumps(list(from_states)),
                "to_state": to_state,
            }
            return db.execute(self._q["change_alert_state"], params).fetchone() is not None

    # -- alerts ------------------------------------------------------------------------------

    def record_alert(
        self, kind: str, subject: str, message: str, details_json: str, now: datetime
    ) -> int:
        with self._write() as db:
            row = db.execute(
                self._q["record_alert"],
                {
                    "kind": kind,
                    "subject": subject,
                    "message": message,
                    "details": details_json,
                    "now": to_db(now),
                },
            ).fetchone()
        return int(row[0])

    def mark_alert_delivered(self, alert_id: int, now: datetime, error: str | None) -> None:
        with self._write() as db:
            db.execute(
                self._q["mark_alert_delivered"], {"id": alert_id, "now": to_db(now), "error": error}
            )

    def list_alerts(self, limit: int = 50) -> list[AlertRow]:
        return [alert_from_row(r, from_db) for r in self._read("list_alerts", {"limit": limit})]


def _outcome_values(outcome: Outcome) -> list[Any]:
    """One element of finish_jobs' :outcomes, in its order."""
    return [
        outcome.job_id,
        outcome.attempt,
        str(outcome.next_state),
        to_db(outcome.finished_at),
        outcome.duration_ms,
        to_db(outcome.run_at),
        outcome.result_json,
        outcome.summary,
        outcome.error,
    ]


def _attempt_params(outcome: Outcome, worker_id: str, started_at: str) -> dict[str, Any]:
    return {
        "job_id": outcome.job_id,
        "attempt": outcome.attempt,
        "worker_id": worker_id,
        "status": str(outcome.status),
        "started_at": started_at,
        "finished_at": to_db(outcome.finished_at),
        "duration_ms": outcome.duration_ms,
        "error": outcome.error,
        "traceback": outcome.traceback,
    }


def _req(value: datetime | None) -> datetime:
    assert value is not None  # columns are NOT NULL
    return value


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _is_the_databases(exc: sqlite3.Error) -> bool:
    """A failure of the database itself (full disk, I/O error, read-only or corrupt file,
    lock), as opposed to a statement's own fault (a constraint, a misuse of the API)."""
    faults_of_the_statement = (
        sqlite3.IntegrityError,
        sqlite3.ProgrammingError,
        sqlite3.InterfaceError,
        sqlite3.NotSupportedError,
        sqlite3.DataError,
    )
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, faults_of_the_statement)


def _unavailable(path: Path, exc: sqlite3.Error) -> JobDeckError:
    if "no such table" in str(exc):
        return SchemaError(f"database {path} has no jobdeck schema: run `jobdeck db migrate`")
    return StoreUnavailable(f"SQLite database {path}: {exc}")
