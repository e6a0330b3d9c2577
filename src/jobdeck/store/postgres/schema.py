"""The PostgreSQL store's schema verbs: migrating (one migrator at a time), checking the
version, the caller's own transactions, closing."""

from __future__ import annotations

from contextlib import AbstractContextManager

from psycopg.rows import dict_row

from jobdeck.clock import Clock
from jobdeck.store.base import SchemaStore
from jobdeck.store.postgres.connection import Connection
from jobdeck.store.postgres.statements import PgDatabase, one_row
from jobdeck.store.queries import Migration, apply_migrations, require_current, schema_status
from jobdeck.store.records import SchemaStatus


class PostgresSchema(SchemaStore):
    """Mixed into PostgresStore, which sets the attributes declared here."""

    clock: Clock
    _db: PgDatabase

    def transaction(self) -> AbstractContextManager[Connection]:
        """A psycopg connection inside a transaction, for your own ``%(name)s`` SQL beside
        jobdeck's tables; pass it to ``insert_jobs(conn=...)`` to enqueue in the same commit.

        Example: ``with store.transaction() as conn: conn.execute(sql, {"id": 1})``.
        """
        return self._db.transaction()

    def migrate(self) -> list[str]:
        q = self._db.q
        with (
            self._db.translated(),
            self._db.checkout() as conn,
            conn.transaction(),
            conn.cursor(row_factory=dict_row) as cur,
        ):
            # Serialises concurrent migrators: the second one waits, then finds nothing to do.
            cur.execute(q["lock_migrations"])
            cur.execute(q["create_migrations_table"])
            current = one_row(cur.execute(q["schema_version"]))["version"]

            def record(migration: Migration) -> None:
                params = {"version": migration.version, "name": migration.name}
                cur.execute(q["record_migration"], {**params, "now": self.clock.now()})

            return apply_migrations("postgres", current, cur.execute, record)

    def schema_status(self) -> SchemaStatus:
        exists = self._db.value("migrations_table_exists", None, "present")
        return schema_status(
            "postgres", self._db.value("schema_version", None, "version") if exists else 0
        )

    def check_schema(self) -> None:
        database = f"PostgreSQL database {self._db.database} at {self._db.where}"
        require_current(self.schema_status(), database)

    def close(self) -> None:
        self._db.close()
