"""Test databases on the local PostgreSQL server: one migrated template, copied per test."""

from __future__ import annotations

import os
import threading
from functools import cache

import psycopg

from jobdeck.store import open_store
from jobdeck.store.queries import load_migrations

ADMIN_URL = os.environ.get("JOBDECK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_lock = threading.Lock()


def url_for(database: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


@cache
def unavailable_reason() -> str | None:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def _admin() -> psycopg.Connection:
    return psycopg.connect(ADMIN_URL, autocommit=True)


@cache
def migrated_template() -> str:
    """A template database at the latest schema; its name changes when migrations change."""
    version = load_migrations("postgres")[-1].version
    name = f"jd_template_v{version}_{_migrations_fingerprint()}"
    with _lock, _admin() as conn:
        # Test processes run side by side (pytest -n): one builds, the others wait and reuse.
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            building = f"{name}_build_{os.getpid()}"
            conn.execute(f'DROP DATABASE IF EXISTS "{building}"')
            conn.execute(f'CREATE DATABASE "{building}"')
            store = open_store(url_for(building))
            store.migrate()
            store.close()
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    return name


def create_database(name: str, template: str) -> None:
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrations_fingerprint() -> str:
    import hashlib

    digest = hashlib.sha256()
    for migration in load_migrations("postgres"):
        digest.update(migration.sql.encode())
    return digest.hexdigest()[:10]
