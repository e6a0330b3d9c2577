"""When a failed attempt runs again: exponential backoff with jitter, never past the cap."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: base * 2^(attempt-1) with ±25% jitter, at most
    ``cap``.

    Jitter spreads retries of jobs that failed together (an outage) so they do not return
    together. Near and at the cap the spread is cut at the cap, not moved past it: the cap is a
    promise to the operator who set ``backoff_max``; delays at the cap spread over 75-100 % of it.
    """
    exponent = min(max(attempt - 1, 0), 62)
    nominal = float(min(cap, base * (2**exponent)))
    return (rng or random).uniform(0.75 * nominal, min(1.25 * nominal, cap))


def retry_at(now: datetime, attempt: int, base: float, cap: float) -> datetime:
    return now + timedelta(seconds=backoff_delay(attempt, base, cap))
