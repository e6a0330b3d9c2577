"""When a failed attempt runs again: exponential backoff with jitter."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: base * 2^(attempt-1), capped, with ±25% jitter.

    Jitter spreads retries of jobs that failed together (an outage) so they do not return together.
    """
    exponent = min(max(attempt - 1, 0), 62)
    delay = float(min(cap, base * (2**exponent)))
    return delay * (rng or random).uniform(0.75, 1.25)


def retry_at(now: datetime, attempt: int, base: float, cap: float) -> datetime:
    return now + timedelta(seconds=backoff_delay(attempt, base, cap))
