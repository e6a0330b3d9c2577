"""The PostgreSQL peers: Procrastinate, pgqueuer and Oban for Python. Each gets a database of
its own per measurement, with the schema its own installer writes."""

from __future__ import annotations

import struct
import subprocess

from bench.peers.common import BenchError, python_env
from bench.peers.systems.base import Facts, PostgresSystem


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=python_env(), check=False)
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


# -- Procrastinate --------------------------------------------------------------------------------


class Procrastinate(PostgresSystem):
    name = "procrastinate"
    label = "Procrastinate"
    facts = Facts(
        results="state only (status, events); no return values",
        crash="not by itself: the job stays 'doing' until user code retries stalled jobs",
        completion="own state: no 'todo'/'doing' rows, count of 'succeeded'",
        single_api="task.defer() (sync)",
        bulk_api="task.batch_defer(*kwargs): one statement",
    )
    default_concurrency = 1  # `procrastinate worker` without --concurrency
    tuned_concurrency = 10  # 10 and 100 drained alike in a trial

    def worker_setting(self) -> str:
        return f"--concurrency {self.concurrency}, LISTEN/NOTIFY, async def tasks"

    def worker_command(self) -> list[str]:
        return [
            self.tool("procrastinate"),
            "--app",
            "bench.peers.apps.procrastinate_app.app",
            "--log-level",
            "warning",
            "worker",
            "--concurrency",
            str(self.concurrency),
        ]

    def install_schema(self) -> None:
        from bench.peers.apps import procrastinate_app

        with procrastinate_app.app.open():
            procrastinate_app.app.schema_manager.apply_schema()

    def connect(self) -> None:
        from bench.peers.apps import procrastinate_app

        self.app = procrastinate_app
        self.app.app.open()

    def close(self) -> None:
        self.app.app.close()

    def enqueue_single(self, n: int) -> None:
        defer = self.app.noop.defer
        for _ in range(n):
            defer()

    def enqueue_bulk(self, n: int, chunk: int) -> None:
        batch_defer = self.app.noop.batch_defer
        for start in range(0, n, chunk):
            batch_defer(*[{} for _ in range(min(chunk, n - start))])

    def enqueue_ping(self, t0: float) -> None:
        self.app.ping.defer(t0=t0)

    def queued_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"))

    def drained(self, n: int) -> bool:
        busy = self.scalar(
            "SELECT 1 FROM procrastinate_jobs WHERE status IN ('todo', 'doing') LIMIT 1"
        )
        return busy is None

    def finished_count(self) -> int:
        return int(
            self.scalar("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")
        )


# -- pgqueuer -------------------------------------------------------------------------------------


class PgQueuer(PostgresSystem):
    name = "pgqueuer"
    label = "pgqueuer"
    is_async = True
    facts = Facts(
        results="outcome logged (pgqueuer_log); no return values",
        crash="yes: a picked job whose heartbeat stops is picked again (30 s)",
        completion="own state: the queue table is empty, 'successful' rows in pgqueuer_log",
        single_api="await queries.enqueue(name, payload)",
        bulk_api="await queries.enqueue([names], [payloads], [priorities]): one statement",
    )
    default_concurrency = 10  # `pgq run` without --batch-size
    tuned_concurrency = 100  # drained 3-5x faster in a trial (as jobdeck's 100 slots)

    def worker_setting(self) -> str:
        return f"--batch-size {self.concurrency}, LISTEN/NOTIFY, async def entrypoints"

    def worker_command(self) -> list[str]:
        return [
            self.tool("pgq"),
            "run",
            "bench.peers.apps.pgqueuer_app:factory",
            "--batch-size",
            str(self.concurrency),
            # no --log-level: pgqueuer 1.6's CLI crashes on it ('str' has no attribute 'name');
            # its default INFO logs start-up and shutdown, nothing per job
        ]

    def install_schema(self) -> None:
        _run([self.tool("pgq"), "--pg-dsn", self.url, "install"], "pgq install")

    async def connect(self) -> None:
        import asyncpg
        from pgqueuer import AsyncpgDriver, Queries

        self.connection = await asyncpg.connect(self.url)
        self.queries = Queries(AsyncpgDriver(self.connection))

    async def close(self) -> None:
        await self.connection.close()

    async def enqueue_single(self, n: int) -> None:
        enqueue = self.queries.enqueue
        for _ in range(n):
            await enqueue("noop", None)

    async def enqueue_bulk(self, n: int, chunk: int) -> None:
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            await self.queries.enqueue(["noop"] * size, [None] * size, [0] * size)

    async def enqueue_ping(self, t0: float) -> None:
        await self.queries.enqueue("ping", struct.pack("!d", t0))

    def queued_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM pgqueuer WHERE status = 'queued'"))

    def drained(self, n: int) -> bool:
        return self.scalar("SELECT 1 FROM pgqueuer LIMIT 1") is None

    def finished_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'"))


# -- Oban -----------------------------------------------------------------------------------------


class Oban(PostgresSystem):
    name = "oban"
    label = "Oban (Python)"
    venv = "oban"
    is_async = True
    facts = Facts(
        results="state kept ('completed' rows, pruned after a day); return values opt-in",
        crash="yes: the Lifeline plugin rescues jobs of dead producers",
        completion="own state: no available/executing rows, count of 'completed'",
        single_api="await oban.enqueue(Worker.new())",
        bulk_api="await oban.enqueue_many([...]): one call",
    )
    # Oban has no default queue: `--queues default:10` is its documentation's example.
    default_concurrency = 10
    tuned_concurrency = 100  # the queue's limit: 100 drained 2-4x faster than 10 in a trial

    def worker_setting(self) -> str:
        return f"--queues default:{self.concurrency}, LISTEN/NOTIFY"

    def worker_command(self) -> list[str]:
        return [
            self.tool("oban"),
            "start",
            "--dsn",
            self.url,
            "--queues",
            f"default:{self.concurrency}",
            "--log-level",
            "warning",
            "--cron-modules",
            "bench.peers.apps.oban_app",
        ]

    def install_schema(self) -> None:
        _run([self.tool("oban"), "install", "--dsn", self.url], "oban install")

    async def connect(self) -> None:
        from oban import Oban as ObanInstance

        from bench.peers.apps import oban_app

        self.app = oban_app
        self.pool = await ObanInstance.create_pool(dsn=self.url, min_size=1, max_size=1)
        self.oban = ObanInstance(pool=self.pool)

    async def close(self) -> None:
        await self.pool.close()

    async def enqueue_single(self, n: int) -> None:
        enqueue, new = self.oban.enqueue, self.app.Noop.new
        for _ in range(n):
            await enqueue(new())

    async def enqueue_bulk(self, n: int, chunk: int) -> None:
        new = self.app.Noop.new
        for start in range(0, n, chunk):
            await self.oban.enqueue_many([new() for _ in range(min(chunk, n - start))])

    async def enqueue_ping(self, t0: float) -> None:
        await self.oban.enqueue(self.app.Ping.new({"t0": t0}))

    def queued_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM oban_jobs WHERE state = 'available'"))

    def drained(self, n: int) -> bool:
        busy = self.scalar(
            "SELECT 1 FROM oban_jobs WHERE state IN "
            "('available', 'executing', 'scheduled', 'retryable') LIMIT 1"
        )
        return busy is None

    def finished_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM oban_jobs WHERE state = 'completed'"))
