"""Procrastinate with its psycopg 3 connector; the tasks are ``async def`` (run on the worker's
event loop, its cheapest path; a sync task would go through a thread).

Worker: ``procrastinate --app bench.peers.apps.procrastinate_app.app worker --concurrency N``.
"""

import os

from procrastinate import App, PsycopgConnector

from bench.peers.apps import sink

app = App(connector=PsycopgConnector(conninfo=os.environ.get("PEERS_PG_URL", "")))


@app.task(name="noop")
async def noop() -> None:
    sink.hit()


@app.task(name="ping")
async def ping(t0: float) -> None:
    sink.ping(t0)
