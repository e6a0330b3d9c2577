"""arq (its own virtualenv: it pins redis < 6, Celery's kombu wants >= 6.4). Results are kept
(``keep_result`` 3,600 s). Worker: ``arq bench.peers.apps.arq_app.WorkerSettings``.

arq's CLI configures its loggers at INFO, which writes two lines per job; ``on_startup`` lowers
them to WARNING, as ``--loglevel WARNING`` does for the other workers.
"""

import logging
import os

from arq.connections import RedisSettings

from bench.peers.apps import sink


async def noop(ctx: dict) -> None:
    sink.hit()


async def ping(ctx: dict, t0: float) -> None:
    sink.ping(t0)


async def quiet_logs(ctx: dict) -> None:
    logging.getLogger("arq").setLevel(logging.WARNING)


class WorkerSettings:
    functions = [noop, ping]
    on_startup = quiet_logs
    redis_settings = RedisSettings.from_dsn(
        os.environ.get("PEERS_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    max_jobs = int(os.environ.get("PEERS_CONCURRENCY", "10"))
