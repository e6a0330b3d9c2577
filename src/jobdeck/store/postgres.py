"""The server store: PostgreSQL through a psycopg connection pool, one round trip per hot verb."""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from jobdeck.clock import Clock, SystemClock
from jobdeck.errors import ConfigError, JobDeckError, SchemaError, StoreUnavailable
from jobdeck.states import JobState
from jobdeck.store.base import (
    AttemptRow,
    ClaimedJob,
    ClaimRequest,
    InsertResult,
    JobFilter,
    JobRow,
    NewJob,
    Outcome,
    RescuedJob,
    SchemaStatus,
    StatsRow,
    WorkerInfo,
)
from jobdeck.store.queries import load_migrations, load_queries, split_statements
from jobdeck.store.rows import attempt_from_row, filter_clauses, job_from_row

T = TypeVar("T")
Connection = psycopg.Connection[Any]

# A wrong or unreachable URL must fail within seconds, not after libpq's default of forever.
_CONNECT_TIMEOUT_S = 5
# Waiting longer than this for a pooled connection means the server is gone, or the pool is
# far too small for the load: either way the caller hears about it.
_CHECKOUT_TIMEOUT_S = 10.0
_POOL_MAX_SIZE = 10
# Deadlocks and serialization failures roll the whole statement back, so replaying it is safe.
_TRANSIENT_RETRIES = 3
# After pg_terminate_backend or a restart, several pooled connections die together and the news
# (a FATAL message) reaches each a few milliseconds late: replay a safe verb a few times.
_LOST_REPLAYS = 3
# A conflicting job can finish between our insert and our look-up; try again this many times.
_INSERT_ROUNDS = 5
_LOST_CONNECTION_STATES = frozenset({"57P01", "57P02", "57P03"})


def from_db(value: Any) -> datetime | None:
    """psycopg returns timestamptz in the session's zone; records always carry UTC."""
    if value is None:
        return None
    moment: datetime = value
    return moment.astimezone(UTC)


class PostgresStore:
    dialect = "postgres"

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock = clock or SystemClock()
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise ConfigError(
                f"invalid PostgreSQL URL ({_first_line(exc)}): use postgresql://user@host:5432/db"
            ) from None
        host = str(params.get("host") or "localhost")
        self._where = f"{host}:{params.get('port') or 5432}"
        self._database = str(params.get("dbname") or params.get("user") or "")
        self._connect_kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in params:
            self._connect_kwargs["connect_timeout"] = _CONNECT_TIMEOUT_S
        if "application_name" not in params:
            self._connect_kwargs["application_name"] = "jobdeck"
        self._q = load_queries("postgres")
        self._pool: ConnectionPool[Connection] | None = None
        self._pool_lock = threading.Lock()
        self._listener: Connection | None = None
        self._listen_lock = threading.Lock()

    # -- connections -------------------------------------------------------------------------

    def _get_pool(self) -> ConnectionPool[Connection]:
        pool = self._pool
        if pool is not None:
            return pool
        with self._pool_lock:
            if self._pool is None:
                # One direct connection first: a bad URL fails now with libpq's own reason,
                # where the pool would only report a timeout after retrying in the background.
                self._connect().close()
                pool = ConnectionPool(
                    self.url,
                    kwargs=self._connect_kwargs,
                    min_size=1,
                    max_size=_POOL_MAX_SIZE,
                    open=False,
                    configure=self._configure,
                    timeout=_CHECKOUT_TIMEOUT_S,
                    name=f"jobdeck@{self._where}",
                )
                try:
                    pool.open(wait=True, timeout=_CONNECT_TIMEOUT_S)
                except PoolTimeout:
                    pool.close()
                    raise self._diagnose() from None
                self._pool = pool
            return self._pool

    def _configure(self, conn: Connection) -> None:
        # JSON columns come back as text: rows.py decodes them the same way for both dialects,
        # and a result that is a JSON string ("done") is not mistaken for decoded text.
        conn.adapters.register_loader("jsonb", TextLoader)
        conn.adapters.register_loader("json", TextLoader)
        conn.execute(self._q["configure_session"])

    def _connect(self) -> Connection:
        try:
            return psycopg.connect(self.url, **self._connect_kwargs)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot reach PostgreSQL at {self._where}: {_reason(exc)}"
            ) from None

    def _diagnose(self) -> StoreUnavailable:
        """Why no pooled connection came: the server's own answer, else an exhausted pool."""
        self._connect().close()
        return StoreUnavailable(
            f"no PostgreSQL connection to {self._where} came free within {_CHECKOUT_TIMEOUT_S:g} s "
            f"(all {_POOL_MAX_SIZE} busy)"
        )

    @contextmanager
    def _checkout(self) -> Iterator[Connection]:
        pool = self._get_pool()
        # Each pool slot may hold a dead connection (after pg_terminate_backend or a server
        # restart); replacing them one by one ends within max_size + 1 checkouts.
        for _ in range(_POOL_MAX_SIZE + 1):
            try:
                conn = pool.getconn()
            except PoolTimeout:
                raise self._diagnose() from None
            except PoolClosed:
                raise StoreUnavailable(f"the store for {self._where} was closed") from None
            if _looks_alive(conn):
                break
            conn.close()
            pool.putconn(conn)  # a closed connection is discarded and replaced by the pool
        else:
            raise StoreUnavailable(
                f"cannot get a working connection to PostgreSQL at {self._where}"
            )
        try:
            yield conn
        finally:
            pool.putconn(conn)

    def _run(
        self,
        query: str,
        params: Mapping[str, Any] | None,
        result: Callable[[psycopg.Cursor[DictRow]], T],
        *,
        where: str | None = None,
        replay_if_lost: bool = True,
    ) -> T:
        """One autocommitted statement: atomic by itself, one round trip, no BEGIN/COMMIT.

        A connection lost mid-statement is replayed on a fresh one when the verb is safe to
        repeat: fenced updates and claims are (a claim whose reply was lost only leaves jobs
        leased until the rescuer takes them back, exactly as if we had raised).
        """
        sql = self._q[query] if where is None else self._q[query].format(where=where)
        transient = replayed = 0
        while True:
            try:
                with self._checkout() as conn, conn.cursor(row_factory=dict_row) as cur:
                    cur.execute(sql, params)
                    return result(cur)
            except psycopg.Error as exc:
                if _is_transient(exc) and transient < _TRANSIENT_RETRIES:
                    transient += 1
                    continue
                if replay_if_lost and replayed < _LOST_REPLAYS and _is_lost(exc):
                    replayed += 1
                    continue
                mapped = self._translate(exc)
                if mapped is exc:
                    raise
                raise mapped from None

    def _rows(
        self, query: str, params: Mapping[str, Any] | None = None, where: str | None = None
    ) -> list[DictRow]:
        return self._run(query, params, _fetchall, where=where)

    def _translate(self, exc: psycopg.Error) -> Exception:
        if isinstance(exc, pg_errors.UndefinedTable | pg_errors.UndefinedColumn):
            return SchemaError(
                f"PostgreSQL database {self._database} at {self._where} has no jobdeck schema or "
                f"an old one ({_first_line(exc)}): run `jobdeck db migrate`"
            )
        if _is_lost(exc):
            return StoreUnavailable(
                f"lost the connection to PostgreSQL at {self._where}: {_reason(exc)}"
            )
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return StoreUnavailable(f"PostgreSQL at {self._where}: {_reason(exc)}")
        return exc

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()  # a wait_for_jobs in progress ends at its timeout

    # -- schema ------------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        applied: list[str] = []
        try:
            with (
                self._checkout() as conn,
                conn.transaction(),
                conn.cursor(row_factory=dict_row) as cur,
            ):
                # Serialises concurrent migrators: the second one waits, then finds nothing to do.
                cur.execute(self._q["lock_migrations"])
                cur.execute(self._q["create_migrations_table"])
                current = _one(cur.execute(self._q["schema_version"]))["version"]
                for migration in load_migrations(self.dialect):
                    if migration.version <= current:
                        continue
                    for statement in split_statements(migration.sql):
                        cur.execute(statement)
                    cur.execute(
                        self._q["record_migration"],
                        {
                            "version": migration.version,
                            "name": migration.name,
                            "now": self.clock.now(),
                        },
                    )
                    applied.append(f"{migration.version:04d}_{migration.name}")
        except psycopg.Error as exc:
            mapped = self._translate(exc)
            if mapped is exc:
                raise
            raise mapped from None
        return applied

    def schema_status(self) -> SchemaStatus:
        migrations = load_migrations(self.dialect)
        exists = self._run("migrations_table_exists", None, lambda cur: _one(cur)["present"])
        current = (
            self._run("schema_version", None, lambda cur: _one(cur)["version"]) if exists else 0
        )
        pending = [f"{m.version:04d}_{m.name}" for m in migrations if m.version > current]
        return SchemaStatus(current, migrations[-1].version, pending)

    def check_schema(self) -> None:
        status = self.schema_status()
        name = f"PostgreSQL database {self._database} at {self._where}"
        if status.current < status.latest:
            raise SchemaError(
                f"{name} is at schema {status.current}, this jobdeck needs {status.latest}: "
                f"run `jobdeck db migrate`"
            )
        if status.current > status.latest:
            raise SchemaError(
                f"{name} is at schema {status.current}, newer than this jobdeck "
                f"({status.latest}): upgrade jobdeck"
            )

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
                with self._checkout() as own:
                    return self._insert_on(own, jobs, now)
            if not isinstance(conn, psycopg.Connection):
                raise ConfigError(
                    f"conn must be a psycopg.Connection (sync), not {type(conn).__name__}"
                )
            return self._insert_on(conn, jobs, now)
        except psycopg.Error as exc:
            if conn is not None and isinstance(exc, pg_errors.TransactionRollback):
                raise  # the caller's transaction is aborted: theirs to retry, with its own error
            mapped = self._translate(exc)
            if mapped is exc:
                raise
            raise mapped from None

    def _insert_on(
        self, conn: Connection, jobs: Sequence[NewJob], now: datetime
    ) -> list[InsertResult]:
        results: list[InsertResult | None] = [None] * len(jobs)
        pending = list(range(len(jobs)))
        with conn.cursor(row_factory=tuple_row) as cur:
            for _ in range(_INSERT_ROUNDS):
                batch = [jobs[i] for i in pending]
                rows = cur.execute(self._q["insert_jobs"], _insert_params(batch, now)).fetchall()
                created_by_key = {
                    jobs[i].unique_key: job_id
                    for i, (job_id, created, _) in zip(pending, rows, strict=True)
                    if created and jobs[i].unique_key is not None
                }
                unresolved: list[int] = []
                for i, (job_id, created, existing_id) in zip(pending, rows, strict=True):
                    key = jobs[i].unique_key
                    if created:
                        results[i] = InsertResult(job_id, True)
                    elif key in created_by_key:  # a twin earlier in this batch took the key
                        results[i] = InsertResult(created_by_key[key], False)
                    elif existing_id is not None:
                        results[i] = InsertResult(existing_id, False)
                    else:
                        unresolved.append(i)
                if not unresolved:
                    break
                # The key was taken by an insert that committed after our snapshot: look again
                # with a fresh one. Keys still free by now were released: insert those again.
                keys = sorted({key for i in unresolved if (key := jobs[i].unique_key)})
                found: dict[str, int] = dict(
                    cur.execute(self._q["find_by_dedupe_keys"], {"keys": keys}).fetchall()
                )
                pending = []
                for i in unresolved:
                    key = jobs[i].unique_key
                    if key is not None and key in found:
                        results[i] = InsertResult(found[key], False)
                    else:
                        pending.append(i)
                if not pending:
                    break
            else:
                keys = sorted({jobs[i].unique_key or "" for i in pending})
                raise StoreUnavailable(
                    f"could not enqueue: unique keys {keys} were taken and released again "
                    f"{_INSERT_ROUNDS} times in a row"
                )
        return [r for r in results if r is not None]

    # -- consuming ---------------------------------------------------------------------------

    def claim_jobs(self, request: ClaimRequest) -> list[ClaimedJob]:
        rows = self._rows(
            "claim_jobs",
            {
                "worker_id": request.worker_id,
                "queues": sorted(set(request.queues)),
                "now": request.now,
                "lease_until": request.lease_until,
                "limit": request.limit,
            },
        )
        # RETURNING does not keep the picking order; run in priority order all the same.
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
                request.now,
            )
            for r in rows
        ]

    def complete_jobs(self, worker_id: str, outcomes: Sequence[Outcome], shard: int) -> list[int]:
        if not outcomes:
            return []
        ordered = sorted(outcomes, key=lambda o: o.job_id)
        params = {
            "worker_id": worker_id,
            "shard": shard,
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
        }
        applied = {r["id"] for r in self._rows("complete_jobs", params)}
        return [o.job_id for o in outcomes if o.job_id in applied]

    def hand_back_jobs(self, worker_id: str, jobs: Sequence[tuple[int, int]]) -> int:
        if not jobs:
            return 0
        params = {
            "worker_id": worker_id,
            "job_id": [j for j, _ in jobs],
            "attempt": [a for _, a in jobs],
        }
        return int(self._run("hand_back_jobs", params, lambda cur: _one(cur)["handed"]))

    def renew_leases(self, worker_id: str, until: datetime) -> int:
        return self._run(
            "renew_leases", {"worker_id": worker_id, "until": until}, lambda cur: cur.rowcount
        )

    def rescue_expired(self, now: datetime, retry_at: datetime) -> list[RescuedJob]:
        rows = self._rows("rescue_expired", {"now": now, "retry_at": retry_at})
        return [
            RescuedJob(r["id"], r["task"], r["attempt"], JobState(r["state"]), r["worker_id"])
            for r in rows
        ]

    def wait_for_jobs(self, timeout: float) -> bool:
        """Block until a NOTIFY on ``jobdeck_jobs`` arrives (True) or ``timeout`` passes (False).

        One connection outside the pool LISTENs, opened on first call: a wake-up sent before
        that is not missed by design, as workers fetch before they wait. If it breaks we drop
        it and answer True, so the caller polls now (and hears of the outage there).
        """
        deadline = time.monotonic() + timeout
        if not self._listen_lock.acquire(timeout=max(0.0, timeout)):
            return False  # another thread is listening; it will wake the worker
        try:
            listener = self._listener or self._listen()
            try:
                remaining = max(0.0, deadline - time.monotonic())
                for _ in listener.notifies(timeout=remaining, stop_after=1):
                    return True
                return False
            except psycopg.Error:
                if self._listener is listener:
                    self._listener = None
                listener.close()
                return True
        finally:
            self._listen_lock.release()

    def _listen(self) -> Connection:
        conn = self._connect()
        try:
            conn.execute(self._q["listen_jobs"])
        except psycopg.Error as exc:
            conn.close()
            raise StoreUnavailable(
                f"cannot LISTEN on PostgreSQL at {self._where}: {_reason(exc)}"
            ) from None
        self._listener = conn
        return conn

    def notify_jobs(self) -> None:
        self._run("notify_jobs", None, _ignore)

    # -- workers -----------------------------------------------------------------------------

    def register_worker(self, info: WorkerInfo) -> None:
        self._run(
            "register_worker",
            {
                "id": info.id,
                "host": info.host,
                "pid": info.pid,
                "queues": json.dumps(list(info.queues)),
                "concurrency": info.concurrency,
                "version": info.version,
                "started_at": info.started_at,
                "last_heartbeat": info.last_heartbeat,
                "state": info.state,
            },
            _ignore,
        )

    def heartbeat_worker(self, worker_id: str, now: datetime, state: str) -> None:
        self._run("heartbeat_worker", {"worker_id": worker_id, "now": now, "state": state}, _ignore)

    def deregister_worker(self, worker_id: str, now: datetime) -> None:
        self._run("deregister_worker", {"worker_id": worker_id, "now": now}, _ignore)

    def list_workers(self, since: datetime | None = None) -> list[WorkerInfo]:
        return [
            WorkerInfo(
                r["id"],
                r["host"],
                r["pid"],
                json.loads(r["queues"]),
                r["concurrency"],
                _required(r["started_at"]),
                _required(r["last_heartbeat"]),
                r["state"],
                r["version"],
            )
            for r in self._rows("list_workers", {"since": since})
        ]

    # -- reading -----------------------------------------------------------------------------

    def get_job(self, job_id: int) -> JobRow | None:
        rows = self._rows("get_job", {"id": job_id})
        return job_from_row(rows[0], from_db) if rows else None

    def get_attempts(self, job_id: int) -> list[AttemptRow]:
        return [
            attempt_from_row(r, from_db) for r in self._rows("get_attempts", {"job_id": job_id})
        ]

    def list_jobs(self, filters: JobFilter, before_id: int | None, limit: int) -> list[JobRow]:
        where, params = self._where_clause(filters, before_id)
        rows = self._rows("list_jobs", {**params, "limit": limit}, where=where)
        return [job_from_row(r, from_db) for r in rows]

    def count_jobs(self, filters: JobFilter) -> int:
        where, params = self._where_clause(filters, None)
        return int(self._run("count_jobs", params, lambda cur: _one(cur)["n"], where=where))

    def _where_clause(
        self, filters: JobFilter, before_id: int | None
    ) -> tuple[str, dict[str, Any]]:
        clauses = [self._q[name] for name in filter_clauses(filters, before_id)]
        params = {
            "states": sorted(str(s) for s in filters.states or ()),
            "tasks": list(filters.tasks or ()),
            "queue": filters.queue,
            "schedule": filters.schedule,
            "enqueued_from": filters.enqueued_from,
            "enqueued_to": filters.enqueued_to,
            "before_id": before_id,
        }
        return " AND ".join(clauses) or "TRUE", params

    def count_by_state(self) -> dict[JobState, int]:
        return {JobState(r["state"]): int(r["n"]) for r in self._rows("count_by_state")}

    def task_names(self) -> list[str]:
        return sorted(r["task"] for r in self._rows("task_names"))

    def stats_series(self, since: datetime, until: datetime, bucket_seconds: int) -> list[StatsRow]:
        rows = self._rows(
            "stats_series", {"since": since, "until": until, "bucket": bucket_seconds}
        )
        return [
            StatsRow(
                datetime.fromtimestamp(r["bucket"], UTC).isoformat(),
                r["succeeded"],
                r["failed"],
                r["duration_ms"],
            )
            for r in rows
        ]

    def stats_by_task(self, since: datetime, until: datetime) -> list[StatsRow]:
        rows = self._rows("stats_by_task", {"since": since, "until": until})
        return [StatsRow(r["task"], r["succeeded"], r["failed"], r["duration_ms"]) for r in rows]

    # -- operating ---------------------------------------------------------------------------

    def retry_job(self, job_id: int, now: datetime) -> JobRow | None:
        rows = self._rows("retry_job", {"id": job_id, "now": now})
        return job_from_row(rows[0], from_db) if rows else None

    def cancel_job(self, job_id: int, now: datetime) -> JobRow | None:
        rows = self._rows("cancel_job", {"id": job_id, "now": now})
        return job_from_row(rows[0], from_db) if rows else None

    def prune_finished(self, before: datetime, limit: int) -> int:
        return int(
            self._run(
                "prune_finished", {"before": before, "limit": limit}, lambda cur: _one(cur)["n"]
            )
        )


def _insert_params(jobs: Sequence[NewJob], now: datetime) -> dict[str, Any]:
    run_ats = [job.run_at or now for job in jobs]
    return {
        "now": now,
        "task": [j.task for j in jobs],
        "queue": [j.queue for j in jobs],
        "args": [j.args_json for j in jobs],
        "labels": [j.labels_json for j in jobs],
        "priority": [int(j.priority) for j in jobs],
        "state": [str(JobState.SCHEDULED if r > now else JobState.AVAILABLE) for r in run_ats],
        "max_attempts": [int(j.max_attempts) for j in jobs],
        "timeout": [None if j.timeout is None else float(j.timeout) for j in jobs],
        "run_at": run_ats,
        "unique_key": [j.unique_key for j in jobs],
        "unique_while": [j.unique_while for j in jobs],
        "schedule": [j.schedule for j in jobs],
        "tick_at": [j.tick_at for j in jobs],
        "trigger": [str(j.trigger) for j in jobs],
        "triggered_by": [j.triggered_by for j in jobs],
    }


def _looks_alive(conn: Connection) -> bool:
    """Checked at every checkout without a round trip.

    An idle connection has nothing to read; one the server ended (pg_terminate_backend, a
    restart) has its FATAL message or end-of-file waiting. Only then do we pay for a ping.
    """
    if conn.closed or conn.pgconn.transaction_status != TransactionStatus.IDLE:
        return False
    if not _readable(conn.fileno()):
        return True
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        return False
    return True


def _readable(fd: int) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def _is_lost(exc: psycopg.Error) -> bool:
    if not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _LOST_CONNECTION_STATES


def _is_transient(exc: psycopg.Error) -> bool:
    return isinstance(exc, pg_errors.DeadlockDetected | pg_errors.SerializationFailure)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _reason(exc: BaseException) -> str:
    """libpq's cause alone: 'connection to server at "h", port 1 failed: X' becomes 'x'."""
    line = _first_line(exc)
    _, found, tail = line.rpartition(" failed: ")
    reason = (tail if found else line).removeprefix("FATAL:").strip()
    return reason[:1].lower() + reason[1:]


def _fetchall(cur: psycopg.Cursor[DictRow]) -> list[DictRow]:
    return cur.fetchall() if cur.description else []


def _one(cur: psycopg.Cursor[DictRow]) -> DictRow:
    row = cur.fetchone()
    if row is None:
        raise JobDeckError("the database returned no row where one was expected")
    return row


def _ignore(cur: psycopg.Cursor[DictRow]) -> None:
    return None


def _required(value: Any) -> datetime:
    moment = from_db(value)
    if moment is None:
        raise JobDeckError("a required timestamp is missing from the row")
    return moment
