"""pgqueuer over one asyncpg connection; ``async def`` entrypoints.

Worker: ``pgq run bench.peers.apps.pgqueuer_app:factory --batch-size N``.
"""

import os
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from pgqueuer import PgQueuer
from pgqueuer.models import Job

from bench.peers.apps import sink


@asynccontextmanager
async def factory() -> AsyncIterator[PgQueuer]:
    connection = await asyncpg.connect(os.environ["PEERS_PG_URL"])
    pgq = PgQueuer.from_asyncpg_connection(connection)

    @pgq.entrypoint("noop")
    async def noop(job: Job) -> None:
        sink.hit()

    @pgq.entrypoint("ping")
    async def ping(job: Job) -> None:
        sink.ping(struct.unpack("!d", job.payload or b"")[0])

    try:
        yield pgq
    finally:
        await connection.close()
