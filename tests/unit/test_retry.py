"""Retry delays: exponential, jittered to spread retries that failed together, capped."""

from __future__ import annotations

import random

import pytest

from jobdeck.retry import backoff_delay


@pytest.mark.parametrize("attempt", [1, 3, 5, 6, 7, 20, 100])
def test_the_delay_never_passes_backoff_max(attempt: int) -> None:
    rng = random.Random(attempt)
    delays = [backoff_delay(attempt, base=2.0, cap=60.0, rng=rng) for _ in range(2000)]
    assert max(delays) <= 60.0


def test_below_the_cap_the_delay_is_jittered_by_a_quarter_either_way() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(3, base=2.0, cap=3600.0, rng=rng) for _ in range(2000)]
    assert 6.0 <= min(delays) < 6.2 and 9.8 < max(delays) <= 10.0  # 8 s, ±25 %


def test_at_the_cap_retries_still_spread_below_it() -> None:
    rng = random.Random(11)
    delays = [backoff_delay(30, base=2.0, cap=60.0, rng=rng) for _ in range(2000)]
    assert 45.0 <= min(delays) < 46.0 and 59.0 < max(delays) <= 60.0
    assert len({round(d, 3) for d in delays}) > 1000  # not all piled up at the cap
