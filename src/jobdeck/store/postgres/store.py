"""PostgresStore: the PostgreSQL verb groups joined over one connection pool."""

from __future__ import annotations

from jobdeck.clock import Clock, SystemClock
from jobdeck.store.access import AccessVerbs
from jobdeck.store.fleet import FleetVerbs
from jobdeck.store.postgres.errorgroups import PostgresErrorGroups
from jobdeck.store.postgres.insight import PostgresInsight
from jobdeck.store.postgres.queue import PostgresQueue
from jobdeck.store.postgres.schedules import PostgresSchedules
from jobdeck.store.postgres.schema import PostgresSchema
from jobdeck.store.postgres.statements import PgDatabase


class PostgresStore(
    PostgresSchema,
    PostgresQueue,
    PostgresInsight,
    PostgresSchedules,
    PostgresErrorGroups,
    AccessVerbs[PgDatabase],
    FleetVerbs[PgDatabase],
):
    """The server store for ``postgresql://user@host/db``: any number of workers on any
    number of hosts; see jobdeck.store.base for the verbs."""

    dialect = "postgres"
    remote = True

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock = clock or SystemClock()
        self._db = PgDatabase(url)
