"""Celery with its Redis broker, stock settings: no result backend (results are not kept), and
the default early acknowledgement (a message is acked when the worker takes it, before it runs).

Worker: ``celery -A bench.peers.apps.celery_app worker -P prefork|threads -c N``.
"""

import os

from celery import Celery

from bench.peers.apps import sink

app = Celery("peers", broker=os.environ.get("PEERS_REDIS_URL", "redis://127.0.0.1:6379/13"))
app.conf.broker_connection_retry_on_startup = True


@app.task(name="noop")
def noop() -> None:
    sink.hit()


@app.task(name="ping")
def ping(t0: float) -> None:
    sink.ping(t0)
