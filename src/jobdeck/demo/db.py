"""The demo app's own tables (cases, hearings, experts...) in the deck's database, and a
small helper that runs the same ``:name`` SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from jobdeck.store.base import Store

_PARAM = re.compile(r"(?<!:):(\w+)")

# Types differ; names match the product guide's own troubleshooting queries.
_TIME = {"sqlite": "TEXT", "postgres": "TIMESTAMPTZ"}
_SERIAL = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgres": "BIGSERIAL PRIMARY KEY"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profiles (
    id {serial}, tenant_id TEXT NOT NULL, full_name TEXT NOT NULL, email TEXT, phone TEXT,
    role TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    id {serial}, tenant_id TEXT NOT NULL, case_number TEXT NOT NULL, title TEXT NOT NULL,
    owner_id INTEGER, sla_hours INTEGER NOT NULL, status TEXT NOT NULL, created_at {time} NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    id {serial}, case_id INTEGER NOT NULL, title TEXT NOT NULL, assigned_to INTEGER,
    due_at {time} NOT NULL, status TEXT NOT NULL, created_at {time} NOT NULL);
CREATE TABLE IF NOT EXISTS hearings (
    id {serial}, case_id INTEGER NOT NULL, hearing_date {time} NOT NULL, assigned_to INTEGER,
    court TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS automation_rules (
    id {serial}, tenant_id TEXT NOT NULL, name TEXT NOT NULL, overdue_days INTEGER NOT NULL,
    active INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS automation_logs (
    id {serial}, rule_id INTEGER NOT NULL, task_id INTEGER NOT NULL, outcome TEXT NOT NULL,
    created_at {time} NOT NULL);
CREATE TABLE IF NOT EXISTS analytics_snapshots (
    id {serial}, tenant_id TEXT NOT NULL, snapshot_date TEXT NOT NULL, metric_type TEXT NOT NULL,
    metric_value INTEGER NOT NULL, created_at {time} NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
    id {serial}, profile_id INTEGER, channel TEXT NOT NULL, subject TEXT NOT NULL,
    status TEXT NOT NULL, created_at {time} NOT NULL);
CREATE TABLE IF NOT EXISTS experts (
    id {serial}, name TEXT NOT NULL, email TEXT NOT NULL, claim_verified INTEGER NOT NULL,
    created_at {time} NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id {serial}, expert_id INTEGER NOT NULL, ends_at {time} NOT NULL, reminded INTEGER NOT NULL,
    expired INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS demo_mail (
    id {serial}, received_at {time} NOT NULL, sender TEXT NOT NULL, recipients TEXT NOT NULL,
    subject TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS task_notes (
    id {serial}, task_id INTEGER NOT NULL, author TEXT NOT NULL, reason TEXT NOT NULL,
    note TEXT NOT NULL, created_at {time} NOT NULL);
CREATE TABLE IF NOT EXISTS demo_feedback (
    id {serial}, author TEXT NOT NULL, role TEXT NOT NULL, topic TEXT NOT NULL,
    message TEXT NOT NULL, created_at {time} NOT NULL)
"""

# What Data Seeding replaces: the seeded records and what the jobs derived from them. Sent mail
# and people's feedback are kept (they are a record, not sample data).
SEEDED_TABLES = (
    "tenants",
    "profiles",
    "cases",
    "tasks",
    "hearings",
    "automation_rules",
    "automation_logs",
    "analytics_snapshots",
    "notifications",
    "experts",
    "trials",
    "task_notes",
)


class DemoDB:
    """Runs the demo's SQL in the deck's database through the store's transaction seam."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.dialect = store.dialect

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.store.transaction() as conn:
            yield conn

    def create_tables(self) -> None:
        ddl = SCHEMA.format(serial=_SERIAL[self.dialect], time=_TIME[self.dialect])
        with self.transaction() as conn:
            for statement in ddl.split(";"):
                if statement.strip():
                    conn.execute(statement)

    def empty_seeded_tables(self) -> None:
        """Remove every seeded row and restart the ids at 1: the seed refers to rows by id."""
        with self.transaction() as conn:
            if self.dialect == "postgres":
                conn.execute(f"TRUNCATE {', '.join(SEEDED_TABLES)} RESTART IDENTITY")
                return
            for table in SEEDED_TABLES:
                conn.execute(f"DELETE FROM {table}")  # names from SEEDED_TABLES, never input
            names = ", ".join(f"'{table}'" for table in SEEDED_TABLES)
            conn.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({names})")

    def server_version(self) -> str:
        """The database server's version, for the Environment tab."""
        sql = "SHOW server_version" if self.dialect == "postgres" else "SELECT sqlite_version()"
        with self.transaction() as conn:
            return str(conn.execute(sql).fetchone()[0])

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.transaction() as conn:
            cursor = conn.execute(self.sql(sql), self.params(params))
            names = [c[0] for c in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        with self.transaction() as conn:
            return int(conn.execute(self.sql(sql), self.params(params)).rowcount)

    def execute_in(self, conn: Any, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return conn.execute(self.sql(sql), self.params(params))

    def sql(self, text: str) -> str:
        return _PARAM.sub(r"%(\1)s", text) if self.dialect == "postgres" else text

    def params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        if not params:
            return {}
        if self.dialect == "postgres":
            return dict(params)
        return {k: _sqlite_value(v) for k, v in params.items()}

    def time(self, value: Any) -> datetime | None:
        """A timestamp column's value as an aware datetime, whichever dialect stored it."""
        if value is None or isinstance(value, datetime):
            return value
        return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value
