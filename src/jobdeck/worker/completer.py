"""Writes finished attempts to the store in batches, keeping them until the write succeeds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from jobdeck.store.base import Outcome, Store

log = logging.getLogger("jobdeck.worker")

AfterWrite = Callable[[list[Outcome], list[int]], None]


class Completer:
    """Collects outcomes from job threads and flushes them in one store write per batch.

    Batching turns N completions into one round trip; the short flush interval bounds how long
    a result waits. Outcomes survive a failed write and are retried: the store's fencing makes a
    repeated write harmless.
    """

    name = "completer"

    def __init__(
        self,
        store: Store,
        worker_id: str,
        shard: int,
        batch_max: int,
        flush_interval: float,
        after_write: AfterWrite | None = None,
        on_store_error: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.shard = shard
        self.batch_max = batch_max
        self.flush_interval = flush_interval
        self.after_write = after_write
        self.on_store_error = on_store_error
        self.written = 0
        self.failing = False
        self._pending: list[Outcome] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="jobdeck-completer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add(self, outcome: Outcome) -> None:
        with self._cond:
            self._pending.append(outcome)
            if len(self._pending) == 1 or len(self._pending) >= self.batch_max:
                self._cond.notify()

    def stop(self, timeout: float = 10.0) -> None:
        """Flush what is left (retrying for up to ``timeout``), then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            if batch:
                self._write(batch)

    def _next_batch(self) -> list[Outcome] | None:
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            if not self._pending:
                return None
            if len(self._pending) < self.batch_max and not self._stopping:
                # Wait briefly for more: one write for many jobs beats many small writes.
                self._cond.wait(self.flush_interval)
            batch = self._pending[: self.batch_max]
            del self._pending[: self.batch_max]
            return batch

    def _write(self, batch: list[Outcome]) -> None:
        applied = self._write_until_stored(batch)
        if self.after_write is None:
            return
        try:
            self.after_write(batch, applied)
        except Exception:
            # Alerts are a side effect: their failure must never stop results being written.
            log.exception("completer: after-write hook failed (results were written)")

    def _write_until_stored(self, batch: list[Outcome]) -> list[int]:
        backoff = 0.1
        while True:
            try:
                applied = self.store.complete_jobs(self.worker_id, batch, self.shard)
            except Exception as exc:
                self.on_store_error()
                # Any error (a lost connection, a bug in a store) is retried rather than
                # ending this thread: a dead completer would leave jobs running for ever
                # while the heartbeat keeps renewing their leases.
                if not self.failing:
                    log.warning(
                        "completer: cannot write %d results: %s (retrying)", len(batch), exc
                    )
                self.failing = True
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            self.written += len(batch)
            if self.failing:
                log.info("completer: store is back, results are being written again")
            self.failing = False
            return applied
