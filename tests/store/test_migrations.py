"""Both dialects carry the same numbered migrations and end with the same tables and columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from jobdeck.store import open_store
from jobdeck.store.queries import load_migrations


def test_migration_numbers_and_names_match_across_dialects() -> None:
    sqlite = [(m.version, m.name) for m in load_migrations("sqlite")]
    postgres = [(m.version, m.name) for m in load_migrations("postgres")]
    assert sqlite == postgres
    assert [v for v, _ in sqlite] == list(range(1, len(sqlite) + 1)), "numbers must be 1, 2, 3..."


def test_migrated_schemas_have_the_same_tables_and_columns(
    tmp_path: Path, pg_template: str
) -> None:
    from tests.pgtools import url_for

    path = tmp_path / "schema.db"
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    store.close()
    assert sqlite_columns(path) == postgres_columns(url_for(pg_template))


def sqlite_columns(path: Path) -> set[tuple[str, str]]:
    """Tables and views, less full-text-search virtual tables and their shadow tables: the
    search index is dialect-specific by design (FTS5 here, tsvector + GIN on PostgreSQL)."""
    with sqlite3.connect(path) as conn:
        virtual = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
            )
        ]
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%'"
            )
            if not any(r[0] == v or r[0].startswith(f"{v}_") for v in virtual)
        ]
        return {(t, r[1]) for t in tables for r in conn.execute(f'PRAGMA table_info("{t}")')}


def postgres_columns(url: str) -> set[tuple[str, str]]:
    """Tables and views, less tsvector columns and the jobs' search table (job_search: an
    FTS5 table on SQLite, a table with a trigram GIN index here)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type <> 'tsvector' "
            "AND table_name <> 'job_search'"
        ).fetchall()
    return {(t, c) for t, c in rows}
