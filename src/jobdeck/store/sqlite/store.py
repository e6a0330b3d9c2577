"""SQLiteStore: the SQLite verb groups joined over one database file."""

from __future__ import annotations

from jobdeck.clock import Clock, SystemClock
from jobdeck.errors import StoreUnavailable
from jobdeck.store.fleet import FleetVerbs
from jobdeck.store.sqlite.access import SQLiteAccess
from jobdeck.store.sqlite.connection import SQLiteDatabase, parse_sqlite_url
from jobdeck.store.sqlite.errorgroups import SQLiteErrorGroups
from jobdeck.store.sqlite.insight import SQLiteInsight
from jobdeck.store.sqlite.queue import SQLiteQueue
from jobdeck.store.sqlite.schedules import SQLiteSchedules
from jobdeck.store.sqlite.schema import SQLiteSchema
from jobdeck.store.sqlite.wake import wakeups_for


class SQLiteStore(
    SQLiteSchema,
    SQLiteQueue,
    SQLiteInsight,
    SQLiteSchedules,
    SQLiteErrorGroups,
    SQLiteAccess,
    FleetVerbs[SQLiteDatabase],
):
    """The embedded store for ``sqlite:///file.db`` (``?synchronous=normal`` to trade
    durability against an OS crash for speed); see jobdeck.store.base for the verbs."""

    dialect = "sqlite"
    remote = False

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock = clock or SystemClock()
        self.path = parse_sqlite_url(url).resolve()
        synchronous = "NORMAL" if "synchronous=normal" in url.lower() else "FULL"
        if not self.path.parent.exists():
            raise StoreUnavailable(
                f"cannot open {self.path}: folder {self.path.parent} does not exist"
            )
        self._wakeups = wakeups_for(self.path)
        self._db = SQLiteDatabase(self.path, synchronous, self._wakeups.write_lock)
