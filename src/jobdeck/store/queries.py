"""Loads the named SQL queries and numbered migrations of a dialect from package data, and
applies the migrations a database has not had yet."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from jobdeck.errors import SchemaError
from jobdeck.store.records import SchemaStatus

_NAME_LINE = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
_MIGRATION_FILE = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        """How the migration is named to people: ``0007_exact_json``."""
        return f"{self.version:04d}_{self.name}"


@cache
def load_queries(dialect: str) -> dict[str, str]:
    """Every ``-- name: x`` block of ``sql/<dialect>/*.sql``, keyed by name."""
    folder = resources.files("jobdeck.store").joinpath("sql", dialect)
    queries: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            queries.update(_split_named(entry.read_text(encoding="utf-8"), entry.name, queries))
    return queries


@cache
def load_migrations(dialect: str) -> tuple[Migration, ...]:
    folder = resources.files("jobdeck.store").joinpath("sql", dialect, "migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            text = entry.read_text(encoding="utf-8")
            found.append(Migration(int(match.group(1)), match.group(2), text))
    return tuple(sorted(found, key=lambda m: m.version))


def apply_migrations(
    dialect: str,
    current: int,
    execute: Callable[[str], object],
    record: Callable[[Migration], object],
) -> list[str]:
    """Run each migration newer than ``current`` statement by statement and ``record`` it,
    all in the caller's transaction; the names of those applied."""
    applied = []
    for migration in load_migrations(dialect):
        if migration.version <= current:
            continue
        for statement in split_statements(migration.sql):
            execute(statement)
        record(migration)
        applied.append(migration.label)
    return applied


def schema_status(dialect: str, current: int) -> SchemaStatus:
    """Where a database at schema ``current`` stands against this jobdeck's migrations."""
    migrations = load_migrations(dialect)
    pending = [m.label for m in migrations if m.version > current]
    return SchemaStatus(current, migrations[-1].version, pending)


def require_current(status: SchemaStatus, database: str) -> None:
    """Refuse a database (named in the message) that is behind or ahead of this jobdeck."""
    if status.current < status.latest:
        raise SchemaError(
            f"{database} is at schema {status.current}, this jobdeck needs {status.latest}: "
            f"run `jobdeck db migrate`"
        )
    if status.current > status.latest:
        raise SchemaError(
            f"{database} is at schema {status.current}, newer than this jobdeck "
            f"({status.latest}): upgrade jobdeck"
        )


def split_statements(sql: str) -> list[str]:
    """Split a migration into statements; migrations keep ';' out of string literals."""
    without_comments = "\n".join(
        line for line in sql.splitlines() if not line.strip().startswith("--")
    )
    return [part.strip() for part in without_comments.split(";") if part.strip()]


def _split_named(text: str, filename: str, seen: dict[str, str]) -> dict[str, str]:
    parts = _NAME_LINE.split(text)
    found: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in seen or name in found:
            raise RuntimeError(f"query {name!r} defined twice ({filename})")
        found[name] = body.strip().rstrip(";")
    return found
