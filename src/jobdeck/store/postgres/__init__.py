"""The server store: PostgreSQL through a psycopg connection pool, one round trip per hot verb."""

from jobdeck.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
