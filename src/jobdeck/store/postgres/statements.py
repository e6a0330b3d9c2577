"""The PostgreSQL store's named queries, each run as one autocommitted statement: atomic by
itself, one round trip, no BEGIN/COMMIT."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg.rows import DictRow, dict_row

from jobdeck.errors import JobDeckError
from jobdeck.store.postgres.connection import Connection, PgConnections, from_db
from jobdeck.store.queries import load_queries

T = TypeVar("T")


class PgDatabase(PgConnections):
    """The pooled connections of one database, with the store's queries to run on them.

    A connection lost mid-statement is replayed on a fresh one when the verb is safe to repeat
    (``replay_if_lost``): reads, fenced updates and claims are (a claim whose reply was lost
    only leaves jobs leased until the rescuer takes them back, exactly as if we had raised). A
    verb whose replay would answer differently when the first try did commit (an insert, a
    revocation) passes False, and the caller hears of the outage instead.
    """

    # What the task list's WHERE is when no filter applies (see store/listing.py).
    true = "TRUE"

    def __init__(self, url: str) -> None:
        self.q = load_queries("postgres")
        channels = {"jobs": self.q["listen_jobs"], "orders": self.q["listen_orders"]}
        super().__init__(url, session_sql=self.q["configure_session"], listen_sql=channels)

    def statement(
        self,
        query: str,
        params: Mapping[str, Any] | None,
        result: Callable[[psycopg.Cursor[DictRow]], T],
        *,
        where: str | None = None,
        replay_if_lost: bool = True,
    ) -> T:
        """Run one named query (its ``{where}`` filled in) and read ``result`` off its cursor."""
        sql = self.q[query] if where is None else self.q[query].format(where=where)

        def run(conn: Connection) -> T:
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(sql, params)
                return result(cur)

        return self.run(run, replay_if_lost=replay_if_lost)

    def rows(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        where: str | None = None,
        replay_if_lost: bool = True,
    ) -> list[DictRow]:
        return self.statement(query, params, _all_rows, where=where, replay_if_lost=replay_if_lost)

    def value(
        self,
        query: str,
        params: Mapping[str, Any] | None,
        column: str,
        *,
        replay_if_lost: bool = True,
    ) -> Any:
        """One column of the one row a query returns."""

        def read(cur: psycopg.Cursor[DictRow]) -> Any:
            return one_row(cur)[column]

        return self.statement(query, params, read, replay_if_lost=replay_if_lost)

    def write_rows(
        self, name: str, params: Mapping[str, Any], *, replay_if_lost: bool = True
    ) -> list[DictRow]:
        return self.rows(name, params, replay_if_lost=replay_if_lost)

    def write_count(self, name: str, params: Mapping[str, Any] | None) -> int:
        """How many rows a statement changed."""
        return self.statement(name, params, lambda cur: cur.rowcount)

    def execute(
        self, query: str, params: Mapping[str, Any] | None, *, replay_if_lost: bool = True
    ) -> None:
        self.statement(query, params, lambda cur: None, replay_if_lost=replay_if_lost)

    # What the code both dialects share reads with (see store/dialect.py): psycopg adapts the
    # values itself.

    def read(
        self, name: str, params: Mapping[str, Any] | None = None, *, where: str | None = None
    ) -> list[DictRow]:
        return self.rows(name, params, where=where)

    def clause(self, name: str) -> str:
        return self.q[name]

    def encode_time(self, moment: datetime | None) -> datetime | None:
        return moment

    def encode_list(self, values: Sequence[Any]) -> list[Any]:
        return list(values)

    def parse_time(self, value: Any) -> datetime | None:
        return from_db(value)


def one_row(cur: psycopg.Cursor[DictRow]) -> DictRow:
    row = cur.fetchone()
    if row is None:
        raise JobDeckError("the database returned no row where one was expected")
    return row


def _all_rows(cur: psycopg.Cursor[DictRow]) -> list[DictRow]:
    return cur.fetchall() if cur.description else []
