"""Opening a store from a database URL."""

from __future__ import annotations

from jobdeck.clock import Clock
from jobdeck.errors import ConfigError
from jobdeck.extras import require_extra
from jobdeck.store.base import Store

DEFAULT_URL = "sqlite:///jobdeck.db"


def open_store(url: str, clock: Clock | None = None) -> Store:
    """A store for ``sqlite:///file.db`` or ``postgresql://user@host/db``."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from jobdeck.store.sqlite import SQLiteStore

        return SQLiteStore(url, clock)
    if scheme in ("postgresql", "postgres"):
        require_extra("postgres", "a PostgreSQL database")
        from jobdeck.store.postgres import PostgresStore

        store: Store = PostgresStore(url, clock)
        return store
    raise ConfigError(
        f"unsupported database URL {url!r}: use sqlite:///path/to/file.db or postgresql://host/db"
    )
