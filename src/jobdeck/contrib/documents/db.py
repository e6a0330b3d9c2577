"""Database access for documents: a small transaction protocol, its implementations, and the
named SQL of ``sql/<dialect>/*.sql``.

The repository and the search index only need ``transaction()`` (a DB-API connection inside a
transaction) and ``reading()`` (one for reads). ``StoreDatabase`` takes both from jobdeck's
store (its ``transaction()`` seam); ``SQLiteDatabase`` and ``PostgresDatabase`` open their own
connections to the same database for stores that lack it.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from importlib import resources
from typing import Any, Protocol

from jobdeck.errors import ConfigError, SchemaError, StoreUnavailable

_NAME_LINE = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
_BUSY_TIMEOUT_S = 30.0


class Database(Protocol):
    """What documents need from a database; ``dialect`` is "sqlite" or "postgres"."""

    dialect: str

    def transaction(self) -> AbstractContextManager[Any]:
        """A DB-API connection in a write transaction: committed on success, else rolled back.
        sqlite3 takes ``:name`` parameters, psycopg ``%(name)s``."""
        ...

    def reading(self) -> AbstractContextManager[Any]:
        """A connection for reads; it need not lock anything (it may be ``transaction()``)."""
        ...

    def close(self) -> None: ...


@cache
def load_queries(dialect: str) -> dict[str, tuple[str, ...]]:
    """Every ``-- name: x`` block of ``sql/<dialect>/*.sql``, split into its statements.

    A block may hold several statements (SQLite keeps its FTS5 table in step with the rows) or
    none (a step the other dialect needs and this one does not).
    """
    folder = resources.files("jobdeck.contrib.documents").joinpath("sql", dialect)
    queries: dict[str, tuple[str, ...]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        parts = _NAME_LINE.split(entry.read_text(encoding="utf-8"))
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in queries:
                raise RuntimeError(f"query {name!r} defined twice ({entry.name})")
            code = "\n".join(
                line for line in body.splitlines() if not line.strip().startswith("--")
            )
            queries[name] = tuple(part.strip() for part in code.split(";") if part.strip())
    return queries


class Queries:
    """Runs named queries of one dialect on a connection; rows come back as dicts."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.sql = load_queries(dialect)

    def execute(self, conn: Any, name: str, params: Mapping[str, Any] | None = None) -> int:
        """Run every statement of ``name``; the row count of the last one."""
        count = 0
        for statement in self.sql[name]:
            count = conn.execute(statement, params or {}).rowcount
        return count

    def execute_many(self, conn: Any, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        (statement,) = self.sql[name]
        cursor = conn.cursor()
        try:
            cursor.executemany(statement, rows)
        finally:
            cursor.close()

    def rows(
        self, conn: Any, name: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        (statement,) = self.sql[name]
        cursor = conn.execute(statement, params or {})
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(
        self, conn: Any, name: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        found = self.rows(conn, name, params)
        return found[0] if found else None


def dialect_of(url: str) -> str:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    raise ConfigError(f"unsupported database URL {url!r}")


def open_database(url: str) -> Database:
    """Own connections to the database at ``url`` (the deck's)."""
    if dialect_of(url) == "sqlite":
        return SQLiteDatabase(url)
    return PostgresDatabase(url)


class StoreDatabase:
    """Documents in the store's own transactions: the store's ``transaction()`` seam."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.dialect: str = store.dialect

    def transaction(self) -> AbstractContextManager[Any]:
        manager: AbstractContextManager[Any] = self.store.transaction()
        return manager

    def reading(self) -> AbstractContextManager[Any]:
        return self.transaction()

    def close(self) -> None:
        return None  # the deck closes its store


class SQLiteDatabase:
    """One connection per thread to the deck's SQLite file, in WAL mode like the store's."""

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        from jobdeck.store.sqlite import parse_sqlite_url

        self.path = parse_sqlite_url(url).resolve()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=_BUSY_TIMEOUT_S,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from None
            with self._lock:
                self._all.append(conn)
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: the write lock up front, so a reader never deadlocks upgrading."""
        conn = self._conn()
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise self._translate(exc) from None
                if time.monotonic() > deadline:
                    raise self._translate(exc) from None
                time.sleep(0.01)
        try:
            yield conn
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise self._translate(exc) from None
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise self._translate(exc) from None

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A deferred transaction: one consistent snapshot, no write lock."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield conn
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        finally:
            conn.execute("COMMIT")

    def _translate(self, exc: sqlite3.Error) -> Exception:
        if "no such table" in str(exc):
            return SchemaError(
                f"database {self.path} has no documents tables: run `jobdeck db migrate`"
            )
        if isinstance(exc, sqlite3.OperationalError):
            return StoreUnavailable(f"SQLite database {self.path}: {exc}")
        return exc

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class PostgresDatabase:
    """A small pool of the deck's PostgreSQL connections (jobdeck's own pool and error mapping)."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        from jobdeck.store.pgconnect import PgConnections

        # Re-indexing statements are few and large: no JIT, and plans for the values given.
        session = "SET jit = off"
        self._db = PgConnections(url, session_sql=session, listen_sql="SELECT 1")

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._db.translated(), self._db.checkout() as conn, conn.transaction():
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self._db.translated(), self._db.checkout() as conn:
            yield conn

    def close(self) -> None:
        self._db.close()
