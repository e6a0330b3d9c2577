"""The SQLite store's schema verbs: migrating the file, checking its version, the caller's own
transactions, closing."""

from __future__ import annotations

from contextlib import AbstractContextManager
from sqlite3 import Connection

from jobdeck.clock import Clock
from jobdeck.store.base import SchemaStore
from jobdeck.store.queries import Migration, apply_migrations, require_current, schema_status
from jobdeck.store.records import SchemaStatus
from jobdeck.store.sqlite.connection import SQLiteDatabase, to_db


class SQLiteSchema(SchemaStore):
    """Mixed into SQLiteStore, which sets the attributes declared here."""

    clock: Clock
    _db: SQLiteDatabase

    def transaction(self) -> AbstractContextManager[Connection]:
        return self._db.own_transaction()

    def migrate(self) -> list[str]:
        with self._db.write() as conn:
            conn.execute(self._db.q["create_migrations_table"])
            current = conn.execute(self._db.q["schema_version"]).fetchone()[0]

            def record(migration: Migration) -> None:
                params = {
                    "version": migration.version,
                    "name": migration.name,
                    "now": to_db(self.clock.now()),
                }
                conn.execute(self._db.q["record_migration"], params)

            return apply_migrations("sqlite", current, conn.execute, record)

    def schema_status(self) -> SchemaStatus:
        exists = self._db.read("migrations_table_exists")
        return schema_status("sqlite", self._db.read("schema_version")[0][0] if exists else 0)

    def check_schema(self) -> None:
        require_current(self.schema_status(), f"database {self._db.path}")

    def close(self) -> None:
        self._db.close()
