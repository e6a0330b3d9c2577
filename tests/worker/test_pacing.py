"""Claiming ahead on a real worker, both stores: short jobs are claimed beyond the free slots,
async ones still run at most ``concurrency`` at once, and slow jobs are never claimed ahead."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jobdeck import JobDeck
from jobdeck.store.base import ClaimedJob, ClaimRequest
from tests.worker.helpers import FAST, all_final, running_worker, wait_until

SLOTS = 2


class Watch:
    """The largest claim asked for, and the most tasks running at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.largest_claim = 0
        self.now = 0
        self.most = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


@pytest.fixture
def watched(db_url: str) -> Iterator[tuple[JobDeck, Watch]]:
    deck = JobDeck(db_url, **{**FAST, "concurrency": SLOTS, "scheduler_enabled": False})
    deck.migrate()
    watch = Watch()
    claim = deck.store.claim_jobs

    def counted(request: ClaimRequest) -> list[ClaimedJob]:
        watch.largest_claim = max(watch.largest_claim, request.limit)
        return claim(request)

    deck.store.claim_jobs = counted  # type: ignore[method-assign]
    try:
        yield deck, watch
    finally:
        deck.close()


def test_short_async_jobs_are_claimed_ahead_yet_run_at_most_concurrency_at_once(
    watched: tuple[JobDeck, Watch],
) -> None:
    deck, watch = watched

    @deck.task(name="quick_async")
    async def quick_async(n: int) -> None:
        watch.enter()
        await asyncio.sleep(0)
        watch.leave()

    total = 400
    quick_async.enqueue_many([{"n": i} for i in range(total)])
    with running_worker(deck):
        wait_until(lambda: all_final(deck.store, total), 30, "every job succeeded")
    assert watch.largest_claim > SLOTS, "no claim went beyond the free slots"
    assert watch.most <= SLOTS


def test_slow_jobs_are_never_claimed_ahead(watched: tuple[JobDeck, Watch]) -> None:
    deck, watch = watched

    @deck.task(name="slow")
    def slow(n: int) -> None:
        time.sleep(0.15)

    total = 8
    slow.enqueue_many([{"n": i} for i in range(total)])
    settled: dict[str, Any] = {}
    with running_worker(deck):
        wait_until(lambda: all_final(deck.store, total), 30, "every job succeeded")
        settled["largest"] = watch.largest_claim
    assert settled["largest"] <= SLOTS
