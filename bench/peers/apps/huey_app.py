"""Huey on Redis (``PEERS_HUEY_STORE=redis``, blocking BRPOP reads) or SQLite (``sqlite``,
polled; the file named by ``PEERS_SQLITE_PATH``). Huey keeps results, but not ``None`` ones.

Worker: ``huey_consumer bench.peers.apps.huey_app.huey -w N -k thread``.
"""

import os

from huey import RedisHuey, SqliteHuey

from bench.peers.apps import sink

if os.environ.get("PEERS_HUEY_STORE", "redis") == "sqlite":
    huey = SqliteHuey("peers", filename=os.environ.get("PEERS_SQLITE_PATH", "huey.db"))
else:
    huey = RedisHuey("peers", url=os.environ.get("PEERS_REDIS_URL", "redis://127.0.0.1:6379/13"))


@huey.task(name="noop")
def noop() -> None:
    sink.hit()


@huey.task(name="ping")
def ping(t0: float) -> None:
    sink.ping(t0)
