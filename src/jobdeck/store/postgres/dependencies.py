"""The PostgreSQL store's job dependencies: the shared Linker over one cursor of a transaction.

Settling locks the children (in id order) before reading their parents' states, in statements
of their own: under read committed each statement sees every transaction committed before it
started, so of two parents finishing at once, the second to lock a child sees the first one's
end, and no child is left waiting on parents that all succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import DictRow

from jobdeck.store.dependencies import Linker


def linker(cur: psycopg.Cursor[DictRow], q: Mapping[str, str], now: datetime | None) -> Linker:
    """The dependency statements on ``cur`` (a dict-row cursor inside a transaction); ``now``
    None: the server's clock."""

    def run(name: str, params: Mapping[str, Any]) -> list[DictRow]:
        cur.execute(q[name], params)
        return cur.fetchall() if cur.description else []

    return Linker(run, list, now, locks_rows=True)
