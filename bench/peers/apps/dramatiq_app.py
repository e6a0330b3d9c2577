"""Dramatiq with its Redis broker and default middleware (no Results middleware).

Worker: ``dramatiq bench.peers.apps.dramatiq_app --processes 1 --threads N``.
"""

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench.peers.apps import sink

broker = RedisBroker(url=os.environ.get("PEERS_REDIS_URL", "redis://127.0.0.1:6379/13"))
dramatiq.set_broker(broker)


@dramatiq.actor(actor_name="noop")
def noop() -> None:
    sink.hit()


@dramatiq.actor(actor_name="ping")
def ping(t0: float) -> None:
    sink.ping(t0)
