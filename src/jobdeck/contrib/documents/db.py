"""Database access for documents: a small transaction protocol and the named SQL of
``sql/<dialect>/*.sql``.

The repository and the search index only need ``transaction()`` (a DB-API connection inside a
transaction) and ``reading()`` (one for reads). ``StoreDatabase`` takes both from the deck's
store, so documents share its connections, its pool and (on SQLite) its write lock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from functools import cache
from typing import Any, Protocol

from jobdeck.store.base import Store

_NAME_LINE = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


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
    from importlib import resources

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


class StoreDatabase:
    """Documents in the store's own transactions: the store's ``transaction()`` seam."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.dialect = store.dialect

    def transaction(self) -> AbstractContextManager[Any]:
        return self.store.transaction()

    def reading(self) -> AbstractContextManager[Any]:
        # The store has no read-only seam (yet): reads take a short write transaction, which
        # on SQLite also waits for the store's write lock.
        return self.transaction()

    def close(self) -> None:
        return None  # the deck closes its store
