"""The SQLite store's job dependencies: the shared Linker over a write transaction, and the
deletion of jobs (bulk delete, prune) with the links they are either end of."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from jobdeck.store.dependencies import Linker, deleted_parents
from jobdeck.store.sqlite.connection import json_list, to_db


def linker(db: sqlite3.Connection, q: Mapping[str, str], now: datetime) -> Linker:
    """The dependency statements inside ``db``'s write transaction (the write lock is held)."""

    def run(name: str, params: Mapping[str, Any]) -> list[sqlite3.Row]:
        return db.execute(q[name], params).fetchall()

    return Linker(run, json_list, to_db(now))


def delete_jobs(
    db: sqlite3.Connection, q: Mapping[str, str], rows: Sequence[sqlite3.Row], now: datetime
) -> None:
    """Delete the jobs of ``rows`` (id, state, has_children) with their attempts and links;
    children still waiting on an unfinished one of them end cancelled ("was deleted")."""
    ids = json_list([r["id"] for r in rows])
    parents = deleted_parents(rows)
    if parents:
        linker(db, q, now).cancel_children(parents)
    db.execute(q["delete_attempts_of"], {"ids": ids})
    db.execute(q["delete_dependencies_of"], {"ids": ids})
    db.execute(q["delete_dependents_of"], {"ids": ids})
    db.execute(q["delete_search_of"], {"ids": ids})
    db.execute(q["delete_jobs"], {"ids": ids})
