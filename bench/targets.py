"""Where a benchmark runs: a fresh, migrated database per measurement, and raw-SQL probes.

The probes read the store's own tables (``jobs.enqueued_at``, ``attempts.started_at`` and
``finished_at``) so figures come from what jobdeck recorded, not from the bench's clock.
"""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bench.common import describe_postgres
from jobdeck.store import open_store

# Cheap enough to poll every few ms while a worker runs: it stops at the first row.
_UNFINISHED_SQL = (
    "SELECT 1 FROM jobs WHERE state IN ('scheduled', 'available', 'retryable', 'running') LIMIT 1"
)
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


class Target(Protocol):
    dialect: str
    label: str

    def fresh(self) -> str: ...
    def probe(self, url: str) -> Probe: ...
    def discard(self, url: str) -> None: ...
    def close(self) -> None: ...
    def describe(self) -> dict[str, Any]: ...


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    return moment.timestamp()


_SPAN_SQL = "SELECT MIN(started_at), MAX(finished_at) FROM attempts"
_LATENCY_SQL = (
    "SELECT j.enqueued_at, a.started_at FROM jobs j "
    "JOIN attempts a ON a.job_id = j.id AND a.attempt = 1 ORDER BY j.id"
)


class Probe:
    """Reads one bench database through a DB-API connection (sqlite3's or psycopg's); they
    differ only in the parameter placeholder."""

    def __init__(self, conn: Any, placeholder: str) -> None:
        self.conn = conn
        self._count_sql = f"SELECT COUNT(*) FROM jobs WHERE state = {placeholder}"

    def _one(self, sql: str, *params: Any) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None
        return row

    def has_unfinished(self) -> bool:
        return self.conn.execute(_UNFINISHED_SQL).fetchone() is not None

    def count_state(self, state: str) -> int:
        return int(self._one(self._count_sql, state)[0])

    def running_workers(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM workers WHERE state = 'running'")[0])

    def drain_span(self) -> tuple[float, float]:
        first, last = self._one(_SPAN_SQL)
        return _epoch(first), _epoch(last)

    def start_latencies(self) -> list[float]:
        rows = self.conn.execute(_LATENCY_SQL).fetchall()
        return [_epoch(started) - _epoch(enqueued) for enqueued, started in rows]

    def close(self) -> None:
        self.conn.close()


# -- SQLite --------------------------------------------------------------------------------------


class SQLiteTarget:
    """A temp folder with one database file per measurement (durable: synchronous=FULL)."""

    dialect = "sqlite"
    label = "SQLite"

    def __init__(self, synchronous: str = "full") -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="jd_bench_"))
        self.synchronous = synchronous
        self._count = 0

    def _path(self, url: str) -> Path:
        return Path(url.split("?", 1)[0].removeprefix("sqlite:///"))

    def fresh(self) -> str:
        self._count += 1
        url = f"sqlite:///{self.folder}/bench{self._count}.db"
        if self.synchronous != "full":
            url += f"?synchronous={self.synchronous}"
        store = open_store(url)
        store.migrate()
        store.close()
        return url

    def probe(self, url: str) -> Probe:
        return Probe(sqlite3.connect(self._path(url), timeout=30, isolation_level=None), "?")

    def discard(self, url: str) -> None:
        path = self._path(url)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "sqlite_version": sqlite3.sqlite_version,
            "synchronous": self.synchronous.upper(),
            "folder": str(self.folder),
        }


# -- PostgreSQL ----------------------------------------------------------------------------------


def postgres_unavailable(admin_url: str) -> str | None:
    """Why PostgreSQL benchmarks cannot run here, or None when they can."""
    if importlib.util.find_spec("jobdeck.store.postgres") is None:
        return "jobdeck.store.postgres is not importable yet"
    try:
        import psycopg

        with psycopg.connect(admin_url, connect_timeout=3):
            return None
    except Exception as exc:
        return f"cannot reach {admin_url}: {str(exc).strip().splitlines()[0]}"


class PostgresTarget:
    """A migrated template database, copied into a fresh database per measurement.

    Every database this run creates is named ``jd_bench_<run>_*`` and dropped by ``close``.
    """

    dialect = "postgres"
    label = "PostgreSQL"

    def __init__(self, admin_url: str = DEFAULT_PG_ADMIN_URL) -> None:
        self.admin_url = admin_url
        self.prefix = f"jd_bench_{uuid.uuid4().hex[:8]}"
        self.template = f"{self.prefix}_tpl"
        self._count = 0
        self._created: list[str] = []
        self._admin(f'CREATE DATABASE "{self.template}"')
        self._created.append(self.template)
        try:
            store = open_store(self._url(self.template))
            store.migrate()
            store.close()
        except BaseException:
            self.close()
            raise

    def _url(self, database: str) -> str:
        base, _, _ = self.admin_url.split("?", 1)[0].rpartition("/")
        return f"{base}/{database}"

    def _admin(self, sql: str) -> Any:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else None

    def fresh(self) -> str:
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self._created.append(name)
        url = self._url(name)
        # Normally a no-op; it matters when a migration lands while a long run is going.
        store = open_store(url)
        store.migrate()
        store.close()
        return url

    def probe(self, url: str) -> Probe:
        import psycopg

        return Probe(psycopg.connect(url, autocommit=True), "%s")

    def discard(self, url: str) -> None:
        name = url.rpartition("/")[2]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self._created:
            self._created.remove(name)

    def close(self) -> None:
        for name in reversed(self._created):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()

    def describe(self) -> dict[str, Any]:
        settings = describe_postgres(self._admin)
        return {"dialect": self.dialect, **settings, "admin_url": self.admin_url}
