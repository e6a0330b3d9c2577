"""What the code both dialects share needs of a dialect's database object, as protocols:
``SQLiteDatabase`` and ``PgDatabase`` each satisfy them, and keep their quirks behind them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol


class Row(Protocol):
    """A result row read by column name: sqlite3.Row, or psycopg's dict rows."""

    def __getitem__(self, key: str, /) -> Any: ...


class Reader(Protocol):
    """Named reads and WHERE fragments, and how times and lists go in as parameters and
    times come back."""

    true: str  # the WHERE of no filter

    def read(
        self, name: str, params: Mapping[str, Any] | None = None, *, where: str | None = None
    ) -> Sequence[Row]: ...
    def clause(self, name: str) -> str: ...
    def encode_time(self, moment: datetime | None) -> Any: ...
    def encode_list(self, values: Sequence[Any]) -> Any: ...
    def parse_time(self, value: Any) -> datetime | None: ...


class Statements(Reader, Protocol):
    """A Reader that also writes: each named statement atomic by itself.

    ``replay_if_lost`` says whether the statement may run again on a fresh connection when
    the first one was lost before its answer came (PostgreSQL; one SQLite file loses no
    connection): False where a first try that did commit would make the replay answer
    differently (an insert, a revocation).
    """

    def write_rows(
        self, name: str, params: Mapping[str, Any], *, replay_if_lost: bool = True
    ) -> Sequence[Row]: ...
    def write_count(self, name: str, params: Mapping[str, Any]) -> int: ...


def where_of(db: Reader, clauses: Iterable[str]) -> str:
    """A WHERE from named fragments, all of which must hold (none: every row)."""
    return " AND ".join(db.clause(name) for name in clauses) or db.true
