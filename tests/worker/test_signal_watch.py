"""A signal never runs worker code on the interrupted main thread, which may hold any lock."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from jobdeck import JobDeck
from jobdeck.store.sqlite import SQLiteStore
from jobdeck.worker.signals import SignalWatch
from jobdeck.worker.worker import Worker


def test_sigterm_while_the_main_thread_holds_the_wake_channel_lock_still_drains(
    tmp_path: Path,
) -> None:
    deck = JobDeck(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        worker = Worker(deck, deck.settings)
        store = deck.store
        assert isinstance(store, SQLiteStore)
        channel_lock = store._wakeups.channel._lock  # what stop() -> notify_jobs() takes
        watch = SignalWatch(worker._on_signal)
        try:
            with channel_lock:
                # The handler runs here, on this thread, while it holds the lock: calling
                # stop() in the handler would wait for this very thread forever.
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.2)
                assert worker._stopping.is_set()  # the flag is set before the wake-up
            watch.close()  # the thread's stop() gets the lock now, and finishes
            assert not watch._thread.is_alive(), "the signal thread never finished"
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    finally:
        deck.close()


def test_closing_the_watch_gives_the_previous_handlers_back() -> None:
    before = signal.getsignal(signal.SIGINT)
    watch = SignalWatch(lambda signum: None)
    assert signal.getsignal(signal.SIGINT) != before
    watch.close()
    assert signal.getsignal(signal.SIGINT) == before
