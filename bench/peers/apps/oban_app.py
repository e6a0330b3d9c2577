"""Oban for Python (needs Python >= 3.12): two workers, resolved by import path.

Worker: ``oban start --dsn URL --queues default:N --cron-modules bench.peers.apps.oban_app``.
"""

from oban import worker

from bench.peers.apps import sink


@worker(queue="default")
class Noop:
    async def process(self, job):  # type: ignore[no-untyped-def]
        sink.hit()


@worker(queue="default")
class Ping:
    async def process(self, job):  # type: ignore[no-untyped-def]
        sink.ping(job.args["t0"])
