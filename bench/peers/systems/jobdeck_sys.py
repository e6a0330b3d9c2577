"""jobdeck on PostgreSQL and on SQLite (synchronous=FULL, its default), through the public API
and the ``jobdeck worker`` CLI, exactly as a user runs it."""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any

from bench.peers.systems.base import Facts, PostgresSystem, System

_UNFINISHED = (
    "SELECT 1 FROM jobs WHERE state IN ('scheduled', 'available', 'retryable', 'running') LIMIT 1"
)


class _Jobdeck(System):
    default_concurrency = 10  # `jobdeck worker` without --concurrency
    tuned_concurrency = 100  # as bench/run.py: a claim never takes more than the free slots
    facts = Facts(
        results="yes: every attempt (status, times, result, error, traceback)",
        crash="yes: leases + rescuer run it again (default within lease 30 s + sweep 10 s)",
        completion="own state: no unfinished jobs, count of 'succeeded'",
        single_api="task.enqueue()",
        bulk_api="task.enqueue_many(kwargs_list): one statement",
    )
    url: str

    def worker_setting(self) -> str:
        kind = "async def" if os.environ.get("PEERS_JOBDECK_ASYNC") == "1" else "def (thread pool)"
        return f"--concurrency {self.concurrency}, {kind} tasks, defaults otherwise"

    def worker_command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "jobdeck",
            "worker",
            "--app",
            "bench.peers.apps.jobdeck_app:deck",
            "--database",
            self.url,
            "--concurrency",
            str(self.concurrency),
            "--log-level",
            "WARNING",
        ]

    def worker_env(self) -> dict[str, str]:
        env = super().worker_env()
        if os.environ.get("PEERS_JOBDECK_ASYNC") == "1":
            env["PEERS_JOBDECK_ASYNC"] = "1"
        return env

    def migrate(self) -> None:
        from jobdeck.store import open_store

        store = open_store(self.url)
        try:
            store.migrate()
        finally:
            store.close()

    def connect(self) -> None:
        os.environ["JOBDECK_DATABASE_URL"] = self.url
        from bench.peers.apps import jobdeck_app

        self.app = jobdeck_app
        self.app.deck.store.check_schema()  # open the connection outside the timing

    def close(self) -> None:
        self.app.deck.close()

    def enqueue_single(self, n: int) -> None:
        enqueue = self.app.noop.enqueue
        for _ in range(n):
            enqueue()

    def enqueue_bulk(self, n: int, chunk: int) -> None:
        enqueue_many = self.app.noop.enqueue_many
        for start in range(0, n, chunk):
            enqueue_many([{} for _ in range(min(chunk, n - start))])

    def enqueue_ping(self, t0: float) -> None:
        self.app.ping.enqueue(t0=t0)

    def queued_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM jobs WHERE state = 'available'"))

    def drained(self, n: int) -> bool:
        return self.scalar(_UNFINISHED) is None

    def finished_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM jobs WHERE state = 'succeeded'"))


class JobdeckPostgres(_Jobdeck, PostgresSystem):
    name = "jobdeck-pg"
    label = "jobdeck (PostgreSQL)"

    def install_schema(self) -> None:
        self.migrate()


class JobdeckSqlite(_Jobdeck):
    name = "jobdeck-sqlite"
    label = "jobdeck (SQLite)"
    store = "SQLite"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.path = ctx.run_dir / "jobdeck.db"
        self.url = f"sqlite:///{self.path}"
        self._conn: sqlite3.Connection | None = None

    def prepare(self) -> None:
        self.migrate()

    def scalar(self, sql: str) -> Any:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        row = self._conn.execute(sql).fetchone()
        return None if row is None else row[0]

    def cleanup(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def describe(self) -> dict[str, Any]:
        return {"sqlite_version": sqlite3.sqlite_version, "synchronous": "FULL", "journal": "WAL"}
