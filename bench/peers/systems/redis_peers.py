"""The Redis peers: Celery (prefork and threads), RQ, Dramatiq, Huey (and Huey on SQLite), arq,
saq. Each client call is the library's documented one; imports happen inside the methods so the
driver only loads the library it measures (and the arq venv needs none of the others)."""

from __future__ import annotations

from typing import Any

from bench.peers.common import python_env
from bench.peers.systems.base import Facts, RedisSystem, System

# -- Celery ---------------------------------------------------------------------------------------


class _Celery(RedisSystem):
    pool: str = "prefork"
    own_state = False  # no result backend: Celery keeps no record of a finished task
    facts = Facts(
        results="no (no result backend by default)",
        crash="no: acks early by default, a running task dies with its worker",
        completion="sink counter (Celery keeps no state without a result backend)",
        single_api="task.delay()",
        bulk_api="group(...).apply_async(): no batch publish, one message per job",
    )

    def worker_setting(self) -> str:
        return f"-P {self.pool} -c {self.concurrency} (prefetch multiplier 4)"

    def worker_command(self) -> list[str]:
        return [
            self.tool("celery"),
            "-A",
            "bench.peers.apps.celery_app",
            "worker",
            "-P",
            self.pool,
            "-c",
            str(self.concurrency),
            "--loglevel",
            "WARNING",
            "-n",
            f"peers-{self.pool}@%h",
        ]

    def connect(self) -> None:
        from bench.peers.apps import celery_app

        self.app = celery_app

    def close(self) -> None:
        self.app.app.close()

    def enqueue_single(self, n: int) -> None:
        noop = self.app.noop
        for _ in range(n):
            noop.delay()

    def enqueue_bulk(self, n: int, chunk: int) -> None:
        from celery import group

        noop = self.app.noop
        for start in range(0, n, chunk):
            group(noop.s() for _ in range(min(chunk, n - start))).apply_async()

    def enqueue_ping(self, t0: float) -> None:
        self.app.ping.delay(t0)

    def queued_count(self) -> int:
        return int(self.admin().llen("celery"))


class CeleryPrefork(_Celery):
    name = "celery-prefork"
    label = "Celery (prefork)"
    pool = "prefork"
    default_concurrency = 2  # Celery's default: one child per core


class CeleryThreads(_Celery):
    name = "celery-threads"
    label = "Celery (threads)"
    pool = "threads"
    default_concurrency = 2  # Celery's -c defaults to the core count for every pool
    tuned_concurrency = 10


# -- RQ -------------------------------------------------------------------------------------------


class RQ(RedisSystem):
    name = "rq"
    label = "RQ"
    facts = Facts(
        results="yes (job hash + result, result_ttl 500 s)",
        crash="no retry: a job of a dead worker goes to the failed registry",
        completion="own state: FinishedJobRegistry count",
        single_api="queue.enqueue(fn)",
        bulk_api="queue.enqueue_many(prepare_data...) in one pipeline",
    )
    default_concurrency = 1

    def worker_setting(self) -> str:
        return "SimpleWorker (runs jobs in the worker process, one at a time)"

    def worker_command(self) -> list[str]:
        return [
            self.tool("rq"),
            "worker",
            "--url",
            self.ctx.redis_url,
            "--worker-class",
            "rq.worker.SimpleWorker",
            "--logging_level",
            "WARNING",
            "default",
        ]

    def connect(self) -> None:
        from redis import Redis
        from rq import Queue

        from bench.peers.apps import rq_app

        self.app = rq_app
        self.redis = Redis.from_url(self.ctx.redis_url)
        self.queue = Queue("default", connection=self.redis)

    def close(self) -> None:
        self.redis.close()

    def enqueue_single(self, n: int) -> None:
        enqueue, noop = self.queue.enqueue, self.app.noop
        for _ in range(n):
            enqueue(noop)

    def enqueue_bulk(self, n: int, chunk: int) -> None:
        from rq import Queue

        noop = self.app.noop
        for start in range(0, n, chunk):
            self.queue.enqueue_many(
                [Queue.prepare_data(noop) for _ in range(min(chunk, n - start))]
            )

    def enqueue_ping(self, t0: float) -> None:
        self.queue.enqueue(self.app.ping, t0)

    def _queue(self) -> Any:
        if not hasattr(self, "queue"):
            self.connect()
        return self.queue

    def queued_count(self) -> int:
        return int(self._queue().count)

    def finished_count(self) -> int:
        return int(self._queue().finished_job_registry.count)


# -- Dramatiq -------------------------------------------------------------------------------------


class Dramatiq(RedisSystem):
    name = "dramatiq"
    label = "Dramatiq"
    facts = Facts(
        results="no (Results middleware not enabled by default)",
        crash="yes: unacked messages of a dead worker are requeued (heartbeat timeout)",
        completion="own state: queue, delay queue and unacked-message hashes are empty",
        single_api="actor.send()",
        bulk_api="group(...).run(): no batch enqueue, one message per job",
    )
    default_concurrency = 8  # Dramatiq's default threads per process

    def worker_setting(self) -> str:
        return f"--processes 1 --threads {self.concurrency}"

    def worker_command(self) -> list[str]:
        return [
            self.tool("dramatiq"),
            "bench.peers.apps.dramatiq_app",
            "--processes",
            "1",
            "--threads",
            str(self.concurrency),
        ]

    def connect(self) -> None:
        from bench.peers.apps import dramatiq_app

        self.app = dramatiq_app

    def close(self) -> None:
        self.app.broker.close()

    def enqueue_single(self, n: int) -> None:
        send = self.app.noop.send
        for _ in range(n):
            send()

    def enqueue_bulk(self, n: int, chunk: int) -> None:
        from dramatiq import group

        message = self.app.noop.message
        for start in range(0, n, chunk):
            group([message() for _ in range(min(chunk, n - start))]).run()

    def enqueue_ping(self, t0: float) -> None:
        self.app.ping.send(t0)

    def queued_count(self) -> int:
        return int(self.admin().llen("dramatiq:default"))

    def drained(self, n: int) -> bool:
        # Every message stays in `<queue>.msgs` until the worker acks it, after it ran; a
        # failed one waits for its retry in the delay queue `<queue>.DQ`.
        pipe = self.admin().pipeline()
        for queue in ("dramatiq:default", "dramatiq:default.DQ"):
            pipe.llen(queue)
            pipe.hlen(f"{queue}.msgs")
        return not any(pipe.execute())

    def finished_count(self) -> int | None:
        return None  # not recorded: drained() and the sink decide


# -- Huey -----------------------------------------------------------------------------------------


class _Huey(System):
    own_state = False  # the message is popped before the task runs; None results aren't stored
    default_concurrency = 1  # huey_consumer's default: one worker thread

    def worker_args(self) -> list[str]:
        return []

    def worker_command(self) -> list[str]:
        return [
            self.tool("huey_consumer"),
            "bench.peers.apps.huey_app.huey",
            "-w",
            str(self.concurrency),
            "-k",
            "thread",
            "-q",
            *self.worker_args(),
        ]

    def connect(self) -> None:
        from bench.peers.apps import huey_app

        self.app = huey_app

    def enqueue_single(self, n: int) -> None:
        noop = self.app.noop
        for _ in range(n):
            noop()

    def enqueue_bulk(self, n: int, chunk: int) -> None:
        self.enqueue_single(n)  # Huey has no batch enqueue

    def enqueue_ping(self, t0: float) -> None:
        self.app.ping(t0)

    def queued_count(self) -> int:
        if not hasattr(self, "app"):
            self.connect()
        return int(self.app.huey.pending_count())


class HueyRedis(_Huey, RedisSystem):
    name = "huey-redis"
    label = "Huey (Redis)"
    facts = Facts(
        results="no for None results (store_none=False); yes otherwise",
        crash="no: the message is popped before the task runs",
        completion="sink counter (the popped message leaves no state)",
        single_api="task()",
        bulk_api="none: one call per job",
    )

    def worker_setting(self) -> str:
        return f"-w {self.concurrency} -k thread (blocking BRPOP)"

    def worker_env(self) -> dict[str, str]:
        return {**RedisSystem.worker_env(self), "PEERS_HUEY_STORE": "redis"}


class HueySqlite(_Huey):
    name = "huey-sqlite"
    label = "Huey (SQLite)"
    store = "SQLite"
    facts = Facts(
        results="no for None results (store_none=False); yes otherwise",
        crash="no: the row is deleted before the task runs",
        completion="sink counter (the dequeued row leaves no state)",
        single_api="task()",
        bulk_api="none: one call per job",
    )
    poll = 0.01

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.path = ctx.run_dir / "huey.db"

    def prepare(self) -> None:
        import os

        os.environ["PEERS_HUEY_STORE"] = "sqlite"
        os.environ["PEERS_SQLITE_PATH"] = str(self.path)

    def worker_setting(self) -> str:
        return f"-w {self.concurrency} -k thread, polls every {self.poll * 1000:g} ms (-d/-m)"

    def worker_args(self) -> list[str]:
        # The default idle poll backs off from 0.1 s to 10 s: useless for start latency.
        return ["-d", str(self.poll), "-m", str(self.poll), "-b", "1.0"]

    def worker_env(self) -> dict[str, str]:
        return python_env(
            {
                "PEERS_SINK": str(self.ctx.sink),
                "PEERS_HUEY_STORE": "sqlite",
                "PEERS_SQLITE_PATH": str(self.path),
            }
        )

    def describe(self) -> dict[str, Any]:
        import sqlite3

        conn = sqlite3.connect(self.path)
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            sync = conn.execute("PRAGMA synchronous").fetchone()[0]
        finally:
            conn.close()
        return {"sqlite_version": sqlite3.sqlite_version, "journal_mode": mode, "synchronous": sync}


# -- arq ------------------------------------------------------------------------------------------


class Arq(RedisSystem):
    name = "arq"
    label = "arq"
    venv = "arq"
    is_async = True
    facts = Facts(
        results="yes (keep_result 3,600 s)",
        crash="yes: the job stays queued; re-run once its in-progress key expires",
        completion="own state: the queue sorted set is empty (jobs leave it when they finish)",
        single_api="await pool.enqueue_job(name)",
        bulk_api="none: one awaited enqueue_job per job",
    )

    default_concurrency = 10  # arq's max_jobs default
    tuned_concurrency = 100  # drained 3-4x faster in a trial

    def worker_setting(self) -> str:
        return f"max_jobs={self.concurrency}, polls every 0.5 s (poll_delay default)"

    def worker_command(self) -> list[str]:
        return [self.tool("arq"), "bench.peers.apps.arq_app.WorkerSettings"]

    async def connect(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings

        self.pool = await create_pool(RedisSettings.from_dsn(self.ctx.redis_url))

    async def close(self) -> None:
        await self.pool.aclose()

    async def enqueue_single(self, n: int) -> None:
        enqueue = self.pool.enqueue_job
        for _ in range(n):
            await enqueue("noop")

    async def enqueue_bulk(self, n: int, chunk: int) -> None:
        await self.enqueue_single(n)

    async def enqueue_ping(self, t0: float) -> None:
        await self.pool.enqueue_job("ping", t0)

    def queued_count(self) -> int:
        return int(self.admin().zcard("arq:queue"))

    def drained(self, n: int) -> bool:
        return self.admin().zcard("arq:queue") == 0

    def finished_count(self) -> int:
        return sum(1 for _ in self.admin().scan_iter(match="arq:result:*", count=1000))


# -- saq ------------------------------------------------------------------------------------------


class Saq(RedisSystem):
    name = "saq"
    label = "saq"
    is_async = True
    facts = Facts(
        results="yes (job hash with result, kept for a TTL)",
        crash="swept after its heartbeat times out; retried only if retries remain (default 1)",
        completion="own state: queue.count('incomplete') is 0",
        single_api="await queue.enqueue(name)",
        bulk_api="none: one awaited enqueue per job",
    )

    default_concurrency = 10  # saq's default; 100 drained slower in a trial

    def worker_setting(self) -> str:
        return f"--workers 1, concurrency={self.concurrency}"

    def worker_command(self) -> list[str]:
        return [self.tool("saq"), "bench.peers.apps.saq_app.settings", "--workers", "1", "-q"]

    async def connect(self) -> None:
        from saq import Queue

        self.queue = Queue.from_url(self.ctx.redis_url)
        await self.queue.connect()

    async def close(self) -> None:
        await self.queue.disconnect()

    async def enqueue_single(self, n: int) -> None:
        enqueue = self.queue.enqueue
        for _ in range(n):
            await enqueue("noop")

    async def enqueue_bulk(self, n: int, chunk: int) -> None:
        await self.enqueue_single(n)

    async def enqueue_ping(self, t0: float) -> None:
        await self.queue.enqueue("ping", t0=t0)

    async def queued_count(self) -> int:
        return int(await self.queue.count("queued"))

    async def drained(self, n: int) -> bool:
        return int(await self.queue.count("incomplete")) == 0

    async def finished_count(self) -> int | None:
        return None  # finished jobs are hashes with a TTL: the sink counts them
