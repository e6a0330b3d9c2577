"""The embedded store: one SQLite file in WAL mode, shared by the processes of one machine."""

from jobdeck.store.sqlite.connection import from_db, to_db
from jobdeck.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore", "from_db", "to_db"]
