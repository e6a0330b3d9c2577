"""The fetcher: claims jobs up to the free slots and hands them to the executors.

It claims more than it can start only while jobs finish faster than a claim returns, and then
no more than the slots finish within one claim's round trip (worker/pacing.py): otherwise a
claimed job waiting in our memory is a job another worker could be running. It waits out a
failing store instead of dying of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from jobdeck import tracing
from jobdeck.errors import JobDeckError, SchemaError
from jobdeck.settings import Settings
from jobdeck.store.base import ClaimedJob, ClaimRequest, Store
from jobdeck.store.limiting import ClaimLimits
from jobdeck.worker.executors import Executors
from jobdeck.worker.leases import Leases
from jobdeck.worker.pacing import ClaimPacing

log = logging.getLogger("jobdeck.worker")


class Fetcher:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        worker_id: str,
        executors: Executors,
        stopping: threading.Event,
        on_store_error: Callable[[], None] = lambda: None,
        *,
        limits: ClaimLimits | None = None,
        leases: Leases | None = None,
        pacing: ClaimPacing | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.worker_id = worker_id
        self.executors = executors
        self.stopping = stopping
        self.on_store_error = on_store_error
        # The queues claimed from: the settings' less those operators paused, which the
        # heartbeat sets (a read per heartbeat, none per claim).
        self.queues: tuple[str, ...] = tuple(settings.queues)
        # None when the deck declares no limit: every claim is then the one unlimited statement.
        self.limits = limits
        self.leases = leases
        self.pacing = pacing or ClaimPacing(settings.concurrency, 0)
        # While jobs are being taken, a rate-limited deck looks again within half its tightest
        # rate interval: the jobs it held back were moved to the next slot, and nothing rings
        # for them (a whole interval plus the claim's own time missed slots: 77/s of 100/s).
        # Once a poll_interval has passed with nothing taken, it waits as usual: an idle worker
        # does not poll at the rate's pace.
        interval = limits.smallest_interval() if limits else None
        self.rate_wait = interval / 2 if interval is not None else None
        self._last_taken = 0.0

    def run(self) -> None:
        """Fetch until ``stopping`` is set; runs on the worker's main thread."""
        backoff = 0.0
        failing = False
        while not self.stopping.is_set():
            free = self.settings.concurrency + self.pacing.ahead() - self.executors.in_flight
            if not self.queues:  # every queue of this worker is paused
                self.stopping.wait(self.settings.poll_interval)
                continue
            if free <= 0:
                self.executors.wait_for_slot(self.settings.poll_interval)
                continue
            limit = min(free, self.settings.fetch_batch_max)
            try:
                sent = time.monotonic()
                jobs = self._claim(limit)
                returned = time.monotonic()
                self.pacing.claimed(returned - sent)
                if failing:
                    log.info("fetcher: store is back, claiming jobs again")
                failing, backoff = False, 0.0
            except SchemaError:
                raise
            except Exception as exc:
                self.on_store_error()
                # A store that fails (full disk, I/O error, lost server) is waited out, not died
                # of: the jobs running here finish and their results wait in the completer.
                if not failing:
                    if isinstance(exc, JobDeckError):
                        log.warning("fetcher: %s (will keep retrying)", exc)
                    else:
                        log.exception("fetcher: unexpected error (will keep retrying)")
                failing, backoff = True, min(max(backoff * 2, 0.2), 5.0)
                self.stopping.wait(backoff)
                continue
            for job in jobs:
                self.executors.dispatch(job, self._claimed_from(job, sent, returned))
            if len(jobs) < limit:
                self._wait_after(bool(jobs))

    def _claim(self, limit: int) -> list[ClaimedJob]:
        # No time of ours in the request: the store stamps the claim and its lease with its own
        # clock as it writes them (see ClaimRequest).
        settings = self.settings
        request = ClaimRequest(
            self.worker_id,
            self.queues,
            limit,
            settings.lease_duration,
            labels=tracing.active(settings.tracing),  # the trace context rides in the labels
            limits=self.limits,
        )
        return self.store.claim_jobs(request)

    def _claimed_from(self, job: ClaimedJob, sent: float, returned: float) -> float | None:
        if self.leases is None:
            return None
        return self.leases.claimed_from(job.started_at, sent, returned)

    def _wait_after(self, took: bool) -> None:
        if took and self.limits is not None and self.rate_wait is None:
            # A limited claim that took some but not all looks again at once: a task that
            # filled up during the claim hid the jobs queued behind it, which the next claim's
            # scan leaves out. Nothing more to take, that claim comes back empty and waits.
            return
        now = time.monotonic()
        if took:
            self._last_taken = now
        poll = self.settings.poll_interval
        if self.rate_wait is not None and now - self._last_taken < poll:
            self.stopping.wait(min(self.rate_wait, poll))
        else:
            self._wait_for_work()

    def _wait_for_work(self) -> None:
        try:
            self.store.wait_for_jobs(self.settings.poll_interval)
        except Exception:  # the claim that follows reports a store that is down
            self.stopping.wait(self.settings.poll_interval)
