"""saq on Redis; results kept on the job hash. Worker: ``saq bench.peers.apps.saq_app.settings``."""

import os

from saq import Queue

from bench.peers.apps import sink


async def noop(ctx: dict) -> None:
    sink.hit()


async def ping(ctx: dict, *, t0: float) -> None:
    sink.ping(t0)


queue = Queue.from_url(os.environ.get("PEERS_REDIS_URL", "redis://127.0.0.1:6379/13"))

settings = {
    "queue": queue,
    "functions": [noop, ping],
    "concurrency": int(os.environ.get("PEERS_CONCURRENCY", "10")),
}
