"""jobdeck: the same deck for PostgreSQL and SQLite (the worker gets ``--database``).
``noop`` is a plain ``def`` (run in the worker's thread pool), as in ``bench/app.py``; set
``PEERS_JOBDECK_ASYNC=1`` for ``async def`` tasks (run on the event loop).

Worker: ``python -m jobdeck worker --app bench.peers.apps.jobdeck_app:deck --concurrency N``.
"""

import os

from bench.peers.apps import sink
from jobdeck import JobDeck

deck = JobDeck()

if os.environ.get("PEERS_JOBDECK_ASYNC") == "1":

    @deck.task(name="peers.noop")
    async def noop() -> None:
        sink.hit()

    @deck.task(name="peers.ping")
    async def ping(t0: float) -> None:
        sink.ping(t0)

else:

    @deck.task(name="peers.noop")
    def noop() -> None:
        sink.hit()

    @deck.task(name="peers.ping")
    def ping(t0: float) -> None:
        sink.ping(t0)
