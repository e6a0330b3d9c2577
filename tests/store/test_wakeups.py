"""Waking waiting consumers: an explicit notify_jobs wakes a store that waits for jobs, without
any job being written (a worker stopping, a retry from another process)."""

from __future__ import annotations

from jobdeck.store import open_store
from jobdeck.store.base import Store


def test_notify_jobs_wakes_a_waiting_store(store: Store, db_url: str) -> None:
    waiter = open_store(db_url)
    try:
        # The first wait subscribes (a LISTEN, a bound socket); nothing has been sent yet, so it
        # ends at its timeout. A wake-up sent before a store first waits is not kept: workers
        # fetch before they wait.
        assert not waiter.wait_for_jobs(0.05)
        store.notify_jobs()
        assert waiter.wait_for_jobs(5.0), "the waiting store was not woken by notify_jobs"
    finally:
        waiter.close()
