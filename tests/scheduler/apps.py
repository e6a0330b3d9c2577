"""A deck with a 100 ms schedule, for scheduler processes started by the tests."""

from __future__ import annotations

import os
from datetime import timedelta

from jobdeck import JobDeck

deck = JobDeck(
    os.environ.get("JOBDECK_DATABASE_URL"),
    scheduler_interval=0.02,
    heartbeat_interval=0.2,
    lease_duration=2.0,
)


@deck.periodic(name="every-100ms", every="100ms", min_every=timedelta(milliseconds=50))
def every_100ms() -> None:
    """Does nothing: the test counts the jobs the schedulers enqueue."""
