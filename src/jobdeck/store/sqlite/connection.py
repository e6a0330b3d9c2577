"""The SQLite store's database: the file's URL, a connection per thread, write transactions
queued on one lock per process, failures as jobdeck's errors, and how values are stored."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jobdeck.errors import ConfigError, JobDeckError, SchemaError, StoreUnavailable
from jobdeck.store.queries import load_queries

# Writers queue on SQLite's lock; past this many seconds a busy database is reported, not hidden.
_BUSY_TIMEOUT_S = 30.0
_SYNC_QUERIES = ("synchronous=normal", "synchronous=full")

# -- how values are stored ----------------------------------------------------------------------


def to_db(moment: datetime | None) -> str | None:
    """A time as SQLite keeps it: UTC text that sorts as the times do."""
    if moment is None:
        return None
    # isoformat pads the year to four digits; strftime("%Y") writes year 1 as "1", which
    # sorts after "2026" and breaks every text comparison of times before the year 1000.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def from_db(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def epoch(moment: datetime) -> int:
    """A time as the stats rollups key it: whole seconds since the epoch."""
    return int(moment.timestamp())


def minute_key(moment: datetime) -> int:
    """The rollup row a time counts in: the start of its minute, in epoch seconds."""
    seconds = epoch(moment)
    return seconds - seconds % 60


def json_list(values: Sequence[Any]) -> str:
    """A list parameter, read in SQL with ``json_each``."""
    return json.dumps(list(values))


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


# -- connections and transactions ---------------------------------------------------------------


class SQLiteDatabase:
    """One SQLite file: a connection per thread, and the store's named queries.

    ``write_lock`` is shared by every store of this file in the process: its threads queue
    there, woken the moment the lock is free, instead of sleeping in SQLite's busy handler.
    """

    # What the task list's WHERE is when no filter applies (see store/listing.py).
    true = "1 = 1"

    def __init__(self, path: Path, synchronous: str, write_lock: threading.RLock) -> None:
        self.path = path
        self.synchronous = synchronous
        self.q = load_queries("sqlite")
        self._write_lock = write_lock
        self._local = threading.local()
        self._all_connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()

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
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that locks up front, so readers never deadlock on upgrade.

        For the store's own statements: any failure of the database (a full disk, an I/O error,
        a read-only file) leaves as StoreUnavailable, whether it came from a statement or from
        the COMMIT.
        """
        conn = self._conn()
        with self._write_lock, self._begun(conn, translate=True) as began:
            yield began

    @contextmanager
    def own_transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction for the caller's own SQL: its errors are theirs and pass through
        as sqlite3 raised them; a COMMIT the database refuses is StoreUnavailable."""
        conn = self._conn()
        with self._write_lock, self._begun(conn, translate=False) as began:
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

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._all_connections:
                conn.close()
            self._all_connections.clear()
        self._local = threading.local()

    # -- named statements ----------------------------------------------------------------------

    def read(
        self, name: str, params: Mapping[str, Any] | None = None, *, where: str | None = None
    ) -> list[sqlite3.Row]:
        """The rows of one named query, outside any transaction (WAL readers never block)."""
        sql = self.q[name] if where is None else self.q[name].format(where=where)
        try:
            rows: list[sqlite3.Row] = self._conn().execute(sql, params or {}).fetchall()
        except sqlite3.Error as exc:
            if not _is_the_databases(exc):
                raise
            raise _unavailable(self.path, exc) from None
        return rows

    def write_one(self, name: str, params: Mapping[str, Any]) -> sqlite3.Row | None:
        """One named statement in its own write transaction; the first row it returns."""
        with self.write() as db:
            row: sqlite3.Row | None = db.execute(self.q[name], params).fetchone()
        return row

    def write_rows(
        self, name: str, params: Mapping[str, Any], *, replay_if_lost: bool = True
    ) -> list[sqlite3.Row]:
        """One named statement in its own write transaction; the rows it returns. (One file
        loses no connection mid-statement: ``replay_if_lost`` is PostgreSQL's concern.)"""
        with self.write() as db:
            rows: list[sqlite3.Row] = db.execute(self.q[name], params).fetchall()
        return rows

    def write_row(self, name: str, params: Mapping[str, Any]) -> sqlite3.Row:
        """One named statement that always returns a row (an INSERT ... RETURNING)."""
        row = self.write_one(name, params)
        if row is None:
            raise JobDeckError("the database returned no row where one was expected")
        return row

    def write_count(self, name: str, params: Mapping[str, Any]) -> int:
        """One named statement in its own write transaction; how many rows it changed."""
        with self.write() as db:
            return db.execute(self.q[name], params).rowcount

    # What the code both dialects share reads with (see store/dialect.py).

    def clause(self, name: str) -> str:
        return self.q[name]

    def encode_time(self, moment: datetime | None) -> str | None:
        return to_db(moment)

    def encode_list(self, values: Sequence[Any]) -> str:
        return json_list(values)

    def parse_time(self, value: Any) -> datetime | None:
        return from_db(value)


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
