"""How many jobs a claim may take beyond the free slots: none, unless jobs here finish faster
than a claim comes back.

With short jobs a worker's slots empty long before the next claim returns, so at the default
10 slots a worker spends most of its time waiting on claims (10 jobs per round trip). Claiming
ahead fills that wait, but a job claimed ahead waits in this worker's memory while another
worker could run it, so the allowance is kept to what the slots finish within one claim's
round trip, by the recent averages: ``slots * round_trip / run_time``, capped. A job claimed
ahead then waits here no longer than a claim would have taken to fetch it. Slow jobs
(a run time longer than ``slots`` round trips) get no allowance at all.
"""

from __future__ import annotations

from jobdeck.settings import Settings

# Past what the averages allow, a claim never takes more than this many times the slots beyond
# them: Celery's default prefetch is the same 4, there for every job, here only for short ones.
# A worker of few slots may still fill one whole claim (fetch_batch_max) as a bigger one does:
# at the default 10 slots, 90 ahead drained no-op jobs 21-24 % faster than 40 on both stores.
AHEAD_PER_SLOT = 4

# The weight of the newest sample in each moving average: about the last ten claims or jobs.
_WEIGHT = 0.1


class ClaimPacing:
    def __init__(self, slots: int, cap: int) -> None:
        self.slots = slots
        self.cap = cap
        self._round_trip: float | None = None
        self._run_time: float | None = None

    def claimed(self, round_trip: float) -> None:
        self._round_trip = _moved(self._round_trip, round_trip)

    def ran(self, run_time: float) -> None:
        """One job's run time (from its start in a slot to its outcome); called from the slots'
        threads: a lost update between two of them only delays the average by one sample."""
        self._run_time = _moved(self._run_time, run_time)

    def ahead(self) -> int:
        """Jobs the next claim may take beyond the free slots."""
        if self.cap <= 0 or self._round_trip is None or self._run_time is None:
            return 0
        if self._run_time <= 0:
            return self.cap
        return min(self.cap, int(self.slots * self._round_trip / self._run_time))


def claim_ahead_cap(settings: Settings) -> int:
    if settings.claim_ahead is not None:
        return settings.claim_ahead
    slots = settings.concurrency
    return max(AHEAD_PER_SLOT * slots, settings.fetch_batch_max - slots)


def _moved(average: float | None, sample: float) -> float:
    return sample if average is None else average + _WEIGHT * (sample - average)
