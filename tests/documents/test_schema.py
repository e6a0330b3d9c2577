"""Migration 0004 gives both dialects the same documents tables and columns; the search index is
an FTS5 table on SQLite (with its shadow tables) and a stored tsvector column with a GIN index on
PostgreSQL. Both are left out of the comparison, as tests/store/test_migrations.py should."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from jobdeck.store import open_store
from jobdeck.store.queries import load_migrations

DOCUMENT_TABLES = ("expert_documents", "document_chunks")


def sqlite_schema_tables(conn: sqlite3.Connection) -> list[str]:
    """Tables and views, without FTS5's own: PRAGMA table_list calls the FTS5 table "virtual"
    and its _data, _idx, _content, _docsize and _config tables "shadow". This is the filter
    proposed for tests/store/test_migrations.py."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' "
            "AND type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        )
    ]


def test_0004_exists_in_both_dialects() -> None:
    for dialect in ("sqlite", "postgres"):
        assert (4, "documents") in [(m.version, m.name) for m in load_migrations(dialect)]


def test_same_tables_and_columns_and_each_dialects_index(tmp_path: Path, pg_template: str) -> None:
    from tests.pgtools import url_for

    path = tmp_path / "schema.db"
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    store.close()
    with sqlite3.connect(path) as conn:
        tables = sqlite_schema_tables(conn)
        assert "document_chunks_fts" not in tables
        assert not [t for t in tables if t.startswith("document_chunks_fts")]
        sqlite = {
            (t, r[1])
            for t in tables
            if t in DOCUMENT_TABLES
            for r in conn.execute(f'PRAGMA table_info("{t}")')
        }
        kinds = dict(conn.execute("SELECT name, type FROM pragma_table_list").fetchall())
        assert kinds["document_chunks_fts"] == "virtual"
        assert kinds["document_chunks_fts_data"] == "shadow"
    with psycopg.connect(url_for(pg_template)) as pg:
        rows = pg.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = ANY(%s) AND data_type <> 'tsvector'",
            (list(DOCUMENT_TABLES),),
        ).fetchall()
        vector = pg.execute(
            "SELECT data_type, is_generated FROM information_schema.columns "
            "WHERE table_name = 'document_chunks' AND column_name = 'search_vector'"
        ).fetchone()
        index = pg.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'document_chunks_search'"
        ).fetchone()
    assert sqlite == {(t, c) for t, c in rows}
    assert vector == ("tsvector", "ALWAYS")
    assert index is not None and "USING gin (search_vector)" in index[0]
