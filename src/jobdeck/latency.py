"""The fixed, log-spaced buckets of the wait and duration histograms, and percentiles read
from their counts.

Bounds are the R10 preferred numbers (1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8) in every decade
from 1 ms to 10^8 ms (about 28 hours): 81 bounds, ten per decade, and one bucket past the last.
Two neighbouring bounds are at most 1.28 apart, so a percentile reported as the geometric
middle of the bucket that holds it is within 13% of the true value (``RELATIVE_ERROR``); in the
first bucket (0 to 1 ms) and the last (past 10^8 ms) the bucket's own mean is reported instead,
so there the error is at most 1 ms, or unbounded above the last bound.

Fixed bounds make histograms add up: rollups from many workers and minutes are summed bucket
by bucket, which no quantile sketch with data-dependent edges allows.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from itertools import pairwise

_R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0)
_DECADES = 8

# Upper bounds in milliseconds, inclusive (Prometheus "le"); index len(BOUNDS_MS) is overflow.
BOUNDS_MS: tuple[float, ...] = (
    *(round(step * 10**decade, 6) for decade in range(_DECADES) for step in _R10),
    10.0**_DECADES,
)
OVERFLOW = len(BOUNDS_MS)
_WIDEST_RATIO = max(b / a for a, b in pairwise(BOUNDS_MS))
# The geometric middle of a bucket is within sqrt(ratio) of any value in it.
RELATIVE_ERROR = math.sqrt(_WIDEST_RATIO) - 1

# The kinds of histogram the rollups keep.
WAIT = "wait"  # from when the attempt was due (enqueued or run_at) to its start
DURATION = "duration"  # from its start to its end
KINDS = (WAIT, DURATION)
PERCENTILES = (50, 95, 99)


def bucket_of(ms: float) -> int:
    """The index of the bucket holding ``ms``: the first bound at or above it."""
    return bisect_left(BOUNDS_MS, ms)


def percentile(counts: Mapping[int, int], sums: Mapping[int, int], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of a histogram, in ms; None when it is empty.

    ``counts`` and ``sums`` map a bucket index to its observations and their total in ms.
    """
    return percentiles(counts, sums, (q,))[0]


def percentiles(
    counts: Mapping[int, int], sums: Mapping[int, int], qs: Sequence[float]
) -> list[float | None]:
    """Several percentiles (ascending ``qs``) in one pass over the buckets."""
    total = sum(counts.values())
    if total <= 0:
        return [None] * len(qs)
    ranks = [max(1, math.ceil(total * q / 100)) for q in qs]
    found: list[float | None] = []
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        while len(found) < len(ranks) and seen >= ranks[len(found)]:
            found.append(_estimate(bucket, counts[bucket], sums.get(bucket, 0)))
    return found


def _estimate(bucket: int, count: int, total_ms: int) -> float:
    if bucket == 0 or bucket == OVERFLOW:
        return total_ms / count if count else BOUNDS_MS[min(bucket, OVERFLOW - 1)]
    return math.sqrt(BOUNDS_MS[bucket - 1] * BOUNDS_MS[bucket])
