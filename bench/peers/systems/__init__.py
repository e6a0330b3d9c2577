"""The systems the harness knows, by name, imported lazily (each venv holds only some)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.peers.systems.base import System

# name -> (module, class, venv). The order is the table's order.
SYSTEMS: dict[str, tuple[str, str, str]] = {
    "jobdeck-pg": ("jobdeck_sys", "JobdeckPostgres", "main"),
    "jobdeck-sqlite": ("jobdeck_sys", "JobdeckSqlite", "main"),
    "celery-prefork": ("redis_peers", "CeleryPrefork", "main"),
    "celery-threads": ("redis_peers", "CeleryThreads", "main"),
    "rq": ("redis_peers", "RQ", "main"),
    "dramatiq": ("redis_peers", "Dramatiq", "main"),
    "huey-redis": ("redis_peers", "HueyRedis", "main"),
    "huey-sqlite": ("redis_peers", "HueySqlite", "main"),
    "arq": ("redis_peers", "Arq", "arq"),
    "saq": ("redis_peers", "Saq", "main"),
    "procrastinate": ("pg_peers", "Procrastinate", "main"),
    "pgqueuer": ("pg_peers", "PgQueuer", "main"),
    "oban": ("pg_peers", "Oban", "oban"),
    "floor-pg": ("floor", "FloorPostgres", "main"),
    "floor-sqlite": ("floor", "FloorSqlite", "main"),
}

JOBDECK = ("jobdeck-pg", "jobdeck-sqlite")
FLOORS = ("floor-pg", "floor-sqlite")


def load(name: str) -> type[System]:
    module, cls, _venv = SYSTEMS[name]
    return getattr(importlib.import_module(f"bench.peers.systems.{module}"), cls)  # type: ignore[no-any-return]
