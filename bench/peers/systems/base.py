"""What an adapter provides: a fresh store, its worker CLI, client calls, and its own state.

Client methods (``connect``, ``close``, ``enqueue_single``, ``enqueue_bulk``, ``enqueue_ping``)
are coroutines when ``is_async`` is true; the driver runs them on one event loop, so an async
system's single-enqueue loop is one coroutine awaiting one call at a time, never a gather.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bench.common import describe_postgres
from bench.peers.common import PG_PREFIX, BenchError, python_env


@dataclass
class Context:
    jobs: int
    chunk: int
    run_dir: Path  # a temp folder of this run: the sink, logs, SQLite files
    pg_admin_url: str
    redis_url: str
    concurrency: int | None = None  # override the adapter's worker setting
    settings: str = "defaults"  # "defaults": what the system's CLI does unasked; or "tuned"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def sink(self) -> Path:
        return self.run_dir / "sink"

    @property
    def bin_dir(self) -> Path:
        return Path(sys.executable).parent


@dataclass(frozen=True)
class Facts:
    """What a reader needs to compare like with like; printed under the results table."""

    results: str  # does it record each job's outcome / return value by default?
    crash: str  # is a job that was running when its worker died run again?
    completion: str  # how the harness knows the drain finished (its own state, or the sink)
    single_api: str
    bulk_api: str


class System:
    name: ClassVar[str]
    label: ClassVar[str]
    store: ClassVar[str]  # "PostgreSQL", "Redis", "SQLite", "-"
    venv: ClassVar[str] = "main"  # which bench virtualenv runs it: main, arq, oban
    is_async: ClassVar[bool] = False
    facts: ClassVar[Facts]
    # True: finished_count() reads the system's own state; False: the sink's counter decides.
    own_state: ClassVar[bool] = True
    has_worker: ClassVar[bool] = True
    # The worker setting a user gets without passing one (the system's own default), and the
    # one that drained fastest in trials here (None: the default is already the best found).
    default_concurrency: ClassVar[int] = 10
    tuned_concurrency: ClassVar[int | None] = None

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.concurrency = ctx.concurrency or self.concurrency_for(ctx.settings)

    @classmethod
    def concurrency_for(cls, settings: str) -> int:
        if settings == "tuned" and cls.tuned_concurrency is not None:
            return cls.tuned_concurrency
        return cls.default_concurrency

    @classmethod
    def tuning_differs(cls) -> bool:
        return cls.concurrency_for("tuned") != cls.concurrency_for("defaults")

    # -- store ------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """A fresh, empty store for one measurement."""

    def cleanup(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {}

    # -- worker -----------------------------------------------------------------------------------

    def worker_setting(self) -> str:
        raise NotImplementedError

    def worker_command(self) -> list[str]:
        raise NotImplementedError

    def worker_env(self) -> dict[str, str]:
        return python_env({"PEERS_SINK": str(self.ctx.sink)})

    def tool(self, name: str) -> str:
        """A console script of the virtualenv this driver runs in."""
        path = self.ctx.bin_dir / name
        if not path.exists():
            raise BenchError(f"{path} is missing: run bench/peers/run.sh to build the venvs")
        return str(path)

    # -- client -----------------------------------------------------------------------------------

    def connect(self) -> Any:
        pass

    def close(self) -> Any:
        pass

    def enqueue_single(self, n: int) -> Any:
        raise NotImplementedError

    def enqueue_bulk(self, n: int, chunk: int) -> Any:
        raise NotImplementedError

    def enqueue_ping(self, t0: float) -> Any:
        raise NotImplementedError

    # -- the system's own state ------------------------------------------------------------------

    def queued_count(self) -> int:
        """Jobs waiting to run, as the system sees them (checked after every enqueue workload)."""
        raise NotImplementedError

    def finished_count(self) -> int | None:
        """Jobs the system has recorded as done (only when ``own_state``); None: not kept."""
        raise NotImplementedError

    def drained(self, n: int) -> bool:
        """Polled every few ms during the drain: cheap where possible."""
        return self.finished_count() >= n


class RedisSystem(System):
    store = "Redis"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._admin: Any = None
        os.environ["PEERS_REDIS_URL"] = ctx.redis_url  # read by the app module on import

    def admin(self) -> Any:
        if self._admin is None:
            import redis

            self._admin = redis.Redis.from_url(self.ctx.redis_url)
        return self._admin

    def prepare(self) -> None:
        self.admin().flushdb()  # this database only (see DEFAULT_REDIS_URL)

    def cleanup(self) -> None:
        if self._admin is not None:
            self._admin.flushdb()
            self._admin.close()
            self._admin = None

    def worker_env(self) -> dict[str, str]:
        return python_env(
            {
                "PEERS_SINK": str(self.ctx.sink),
                "PEERS_REDIS_URL": self.ctx.redis_url,
                "PEERS_CONCURRENCY": str(self.concurrency),
            }
        )

    def describe(self) -> dict[str, Any]:
        info = self.admin().info()
        config = self.admin().config_get("appendonly")
        save = self.admin().config_get("save")
        return {
            "redis_version": info.get("redis_version"),
            "appendonly": config.get("appendonly"),
            "save": save.get("save"),
        }


class PostgresSystem(System):
    store = "PostgreSQL"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.database = f"{PG_PREFIX}{self.name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        base = ctx.pg_admin_url.split("?", 1)[0].rpartition("/")[0]
        self.url = f"{base}/{self.database}"
        self._probe: Any = None
        os.environ["PEERS_PG_URL"] = self.url  # read by the app module when it is imported

    def _admin(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.ctx.pg_admin_url, autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def prepare(self) -> None:
        self._admin(f'CREATE DATABASE "{self.database}"')
        self.install_schema()

    def install_schema(self) -> None:
        raise NotImplementedError

    def probe(self) -> Any:
        """An autocommit psycopg connection to this run's database, for state queries."""
        if self._probe is None:
            import psycopg

            self._probe = psycopg.connect(self.url, autocommit=True)
        return self._probe

    def scalar(self, sql: str) -> Any:
        row = self.probe().execute(sql).fetchone()
        return None if row is None else row[0]

    def db_bytes(self) -> int:
        """Every table and index of this database, in bytes: its growth during a drain is
        what claiming and completing wrote (new row versions, index entries)."""
        sql = "SELECT COALESCE(SUM(pg_total_relation_size(relid)), 0) FROM pg_stat_user_tables"
        return int(self.scalar(sql))

    def cleanup(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def worker_env(self) -> dict[str, str]:
        return python_env(
            {
                "PEERS_SINK": str(self.ctx.sink),
                "PEERS_PG_URL": self.url,
                "PEERS_CONCURRENCY": str(self.concurrency),
            }
        )

    def describe(self) -> dict[str, Any]:
        return describe_postgres(self._admin)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")
