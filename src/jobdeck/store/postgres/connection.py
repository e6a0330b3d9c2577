"""The PostgreSQL store's connections: the pool, liveness at checkout, retries, errors, LISTEN."""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from jobdeck.errors import ConfigError, SchemaError, StoreUnavailable

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
_LOST_CONNECTION_STATES = frozenset({"57P01", "57P02", "57P03"})


def from_db(value: Any) -> datetime | None:
    """psycopg returns timestamptz in the session's zone; records always carry UTC."""
    if value is None:
        return None
    moment: datetime = value
    return moment.astimezone(UTC)


class PgConnections:
    """Autocommit connections to one database, checked for life at checkout.

    ``session_sql`` runs on every new pooled connection; ``listen_sql`` names each channel
    notifications are waited for on, and its LISTEN, run on that channel's one connection
    outside the pool.
    """

    def __init__(self, url: str, *, session_sql: str, listen_sql: Mapping[str, str]) -> None:
        self.url = url
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise ConfigError(
                f"invalid PostgreSQL URL ({_first_line(exc)}): use postgresql://user@host:5432/db"
            ) from None
        host = str(params.get("host") or "localhost")
        self.where = f"{host}:{params.get('port') or 5432}"
        self.database = str(params.get("dbname") or params.get("user") or "")
        self._connect_kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in params:
            self._connect_kwargs["connect_timeout"] = _CONNECT_TIMEOUT_S
        if "application_name" not in params:
            self._connect_kwargs["application_name"] = "jobdeck"
        self._session_sql = session_sql
        self._pool: ConnectionPool[Connection] | None = None
        self._pool_lock = threading.Lock()
        self._listeners = {name: _Listener(self, sql) for name, sql in listen_sql.items()}

    # -- the pool ----------------------------------------------------------------------------

    def _get_pool(self) -> ConnectionPool[Connection]:
        pool = self._pool
        if pool is not None:
            return pool
        with self._pool_lock:
            if self._pool is None:
                # One direct connection first: a bad URL fails now with libpq's own reason,
                # where the pool would only report a timeout after retrying in the background.
                self.connect().close()
                pool = ConnectionPool(
                    self.url,
                    kwargs=self._connect_kwargs,
                    min_size=1,
                    max_size=_POOL_MAX_SIZE,
                    open=False,
                    configure=self._configure,
                    timeout=_CHECKOUT_TIMEOUT_S,
                    name=f"jobdeck@{self.where}",
                )
                try:
                    pool.open(wait=True, timeout=_CONNECT_TIMEOUT_S)
                except PoolTimeout:
                    pool.close()
                    raise self._diagnose() from None
                self._pool = pool
            return self._pool

    def _configure(self, conn: Connection) -> None:
        # JSON columns come back as text: store/rows.py decodes them the same way for both dialects,
        # and a result that is a JSON string ("done") is not mistaken for decoded text.
        conn.adapters.register_loader("jsonb", TextLoader)
        conn.adapters.register_loader("json", TextLoader)
        conn.execute(self._session_sql)

    def connect(self) -> Connection:
        """A new connection outside the pool (a listener's, or a check of the server)."""
        try:
            return psycopg.connect(self.url, **self._connect_kwargs)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot reach PostgreSQL at {self.where}: {_reason(exc)}"
            ) from None

    def _diagnose(self) -> StoreUnavailable:
        """Why no pooled connection came: the server's own answer, else an exhausted pool."""
        self.connect().close()
        return StoreUnavailable(
            f"no PostgreSQL connection to {self.where} came free within {_CHECKOUT_TIMEOUT_S:g} s "
            f"(all {_POOL_MAX_SIZE} busy)"
        )

    @contextmanager
    def checkout(self) -> Iterator[Connection]:
        """A live autocommit connection from the pool, returned to it afterwards."""
        pool = self._get_pool()
        # Each pool slot may hold a dead connection (after pg_terminate_backend or a server
        # restart); replacing them one by one ends within max_size + 1 checkouts.
        for _ in range(_POOL_MAX_SIZE + 1):
            try:
                conn = pool.getconn()
            except PoolTimeout:
                raise self._diagnose() from None
            except PoolClosed:
                raise StoreUnavailable(f"the store for {self.where} was closed") from None
            if _looks_alive(conn):
                break
            conn.close()
            pool.putconn(conn)  # a closed connection is discarded and replaced by the pool
        else:
            raise StoreUnavailable(f"cannot get a working connection to PostgreSQL at {self.where}")
        try:
            yield conn
        finally:
            pool.putconn(conn)

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        for listener in self._listeners.values():
            listener.close()

    # -- running work ------------------------------------------------------------------------

    def run(self, work: Callable[[Connection], T], *, replay_if_lost: bool = True) -> T:
        """Run ``work`` on a pooled connection, replaying it when that is known to be safe.

        ``work`` must be one autocommitted statement or one transaction, so that a deadlock or
        serialization failure leaves nothing behind. A connection lost mid-way may or may not
        have committed: only verbs that are harmless to repeat pass ``replay_if_lost``.
        """
        transient = replayed = 0
        while True:
            try:
                with self.checkout() as conn:
                    return work(conn)
            except psycopg.Error as exc:
                if _is_transient(exc) and transient < _TRANSIENT_RETRIES:
                    transient += 1
                    continue
                if replay_if_lost and replayed < _LOST_REPLAYS and _is_lost(exc):
                    replayed += 1
                    continue
                mapped = self.translate(exc)
                if mapped is exc:
                    raise
                raise mapped from None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A pooled connection inside one transaction: committed when the block ends, rolled
        back if it raises.

        For the caller's own SQL, so its errors pass through as psycopg raised them (a missing
        table of theirs is not a missing jobdeck schema); only a lost connection becomes
        StoreUnavailable. Never replayed: we cannot know what the block did.
        """
        with self.checkout() as conn:
            try:
                with conn.transaction():
                    yield conn
            except psycopg.Error as exc:
                if not _is_lost(exc):
                    raise
                raise self.translate(exc) from None

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Raise psycopg errors as jobdeck's own (schema missing, server unreachable)."""
        try:
            yield
        except psycopg.Error as exc:
            mapped = self.translate(exc)
            if mapped is exc:
                raise
            raise mapped from None

    def translate(self, exc: psycopg.Error) -> Exception:
        if isinstance(exc, pg_errors.UndefinedTable | pg_errors.UndefinedColumn):
            return SchemaError(
                f"PostgreSQL database {self.database} at {self.where} has no jobdeck schema or "
                f"an old one ({_first_line(exc)}): run `jobdeck db migrate`"
            )
        if _is_lost(exc):
            return StoreUnavailable(
                f"lost the connection to PostgreSQL at {self.where}: {_reason(exc)}"
            )
        if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
            # A standby after a failover, or a database set read-only: writable again later.
            return StoreUnavailable(
                f"PostgreSQL at {self.where} is read-only, writes are refused: {_reason(exc)}"
            )
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            # Also a full disk (53100), out of memory or connections (53xxx), an I/O error (58030)
            # and a cancelled statement (57014): the server's trouble, not the statement's.
            return StoreUnavailable(f"PostgreSQL at {self.where}: {_reason(exc)}")
        return exc

    # -- notifications -----------------------------------------------------------------------

    def wait_for_notify(
        self, timeout: float, channel: str = "jobs", wanted: Callable[[str], bool] | None = None
    ) -> bool:
        """Block until a notification on ``channel`` arrives whose payload is ``wanted`` (any,
        if None) (True) or ``timeout`` passes (False); see ``_Listener``."""
        return self._listeners[channel].wait(timeout, wanted)


class _Listener:
    """One connection outside the pool that LISTENs on one channel, opened on first wait.

    A notification sent before that first wait is missed by design: callers look (a fetch,
    a read of the orders) before they wait. If the connection breaks it is dropped and the wait
    answers True, so the caller looks now (and hears of the outage there).
    """

    def __init__(self, database: PgConnections, listen_sql: str) -> None:
        self.database = database
        self.listen_sql = listen_sql
        self.conn: Connection | None = None
        self.lock = threading.Lock()

    def wait(self, timeout: float, wanted: Callable[[str], bool] | None) -> bool:
        deadline = time.monotonic() + timeout
        if not self.lock.acquire(timeout=max(0.0, timeout)):
            return False  # another thread is listening; it will wake the worker
        try:
            conn = self.conn or self._listen()
            try:
                remaining = max(0.0, deadline - time.monotonic())
                for notice in conn.notifies(timeout=remaining):
                    if wanted is None or wanted(notice.payload):
                        return True
                    remaining = max(0.0, deadline - time.monotonic())
                    if remaining == 0.0:
                        break
                return False
            except psycopg.Error:
                if self.conn is conn:
                    self.conn = None
                conn.close()
                return True
        finally:
            self.lock.release()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()  # a wait in progress ends at its timeout

    def _listen(self) -> Connection:
        conn = self.database.connect()
        try:
            conn.execute(self.listen_sql)
        except psycopg.Error as exc:
            conn.close()
            raise StoreUnavailable(
                f"cannot LISTEN on PostgreSQL at {self.database.where}: {_reason(exc)}"
            ) from None
        self.conn = conn
        return conn


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
