"""Concurrency and rate limits as the claim enforces them, written once for both dialects.

A limited claim (see ``ClaimRequest.limits``) reads the running jobs' counts and the rate
slots while it holds the limits' locks (SQLite's write lock; PostgreSQL's advisory locks on
each key), then ``admit`` picks, in claim order, the due jobs that fit: a job over a
concurrency limit stays where it is, a job over a rate limit is moved to the moment its slot
opens, so nobody looks at it again before then.

Running counts are counted, never kept: a job stops counting when its state leaves
``running``, so a completion, a rescued lease, a hand-back or a cancel frees its slot with
no bookkeeping that a crash could leave behind.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobdeck.errors import ConfigError

# The label a job's concurrency key rides in (``.options(concurrency_key=...)``).
KEY_LABEL = "concurrency_key"

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|m|h)\s*$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}

# A slot in the running counts: ("queue", name), ("task", name) or ("key", concurrency key).
Slot = tuple[str, str]


@dataclass(frozen=True)
class Rate:
    """``count`` starts per ``period`` seconds, spaced evenly (one per interval)."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"100/m"``, ``"5/s"``, ``"10/2h"``; a clear ConfigError otherwise."""
        match = _RATE.match(text) if isinstance(text, str) else None
        if match is None or int(match.group(1)) < 1:
            raise ConfigError(f"rate limit must look like 100/m, 5/s or 10/2h, got {text!r}")
        periods = int(match.group(2) or 1)
        return cls(int(match.group(1)), periods * _UNIT_SECONDS[match.group(3)])

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=self.period / self.count)

    def __str__(self) -> str:
        for unit, seconds in _UNIT_SECONDS.items():
            if self.period == seconds:
                return f"{self.count}/{unit}"
        return f"{self.count}/{self.period:g}s"


@dataclass(frozen=True)
class ClaimLimits:
    """The limits a worker's deck declares, by queue and by task name."""

    queues: Mapping[str, int] = field(default_factory=dict)
    tasks: Mapping[str, int] = field(default_factory=dict)
    # task -> how many jobs of one concurrency key may run at once (the key counts across tasks)
    per_key: Mapping[str, int] = field(default_factory=dict)
    task_rates: Mapping[str, Rate] = field(default_factory=dict)
    # task -> the rate each of its concurrency keys gets
    key_rates: Mapping[str, Rate] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.queues, self.tasks, self.per_key, self.task_rates, self.key_rates))

    def smallest_interval(self) -> float | None:
        rates = [*self.task_rates.values(), *self.key_rates.values()]
        return min((r.interval.total_seconds() for r in rates), default=None)

    def caps(self, queue: str, task: str, key: str | None) -> list[tuple[Slot, int]]:
        """The concurrency limits one job is under."""
        caps: list[tuple[Slot, int]] = []
        if queue in self.queues:
            caps.append((("queue", queue), self.queues[queue]))
        if task in self.tasks:
            caps.append((("task", task), self.tasks[task]))
        if key is not None and task in self.per_key:
            caps.append((("key", key), self.per_key[task]))
        return caps

    def rates(self, task: str, key: str | None) -> list[tuple[str, Rate]]:
        """The rate limits one job is under, by rate-slot key."""
        rates: list[tuple[str, Rate]] = []
        if task in self.task_rates:
            rates.append((f"task:{task}", self.task_rates[task]))
        if key is not None and task in self.key_rates:
            rates.append((f"key:{key}", self.key_rates[task]))
        return rates

    def full_queues(self, running: Counter[Slot]) -> set[str]:
        return {q for q, cap in self.queues.items() if running[("queue", q)] >= cap}

    def full_tasks(self, running: Counter[Slot]) -> list[str]:
        return sorted(t for t, cap in self.tasks.items() if running[("task", t)] >= cap)


@dataclass(frozen=True)
class Candidate:
    """A due job a limited claim may take, in claim order."""

    id: int
    queue: str
    task: str
    key: str | None


@dataclass
class Admission:
    """What a limited claim does: claim ``ids``, move ``held`` jobs to when their rate slot
    opens, and write the rate slots' next free moments."""

    ids: list[int] = field(default_factory=list)
    held: dict[int, datetime] = field(default_factory=dict)
    slots: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class LimitUsage:
    """What the limits see now: running jobs per slot, and each rate slot's next free time."""

    running: Counter[Slot]
    next_free: Mapping[str, datetime]


def running_counts(rows: Iterable[Any]) -> Counter[Slot]:
    """The counts per queue, task and key from running_by_limit's (queue, task, ckey, n)."""
    running: Counter[Slot] = Counter()
    for row in rows:
        running[("queue", row["queue"])] += row["n"]
        running[("task", row["task"])] += row["n"]
        if row["ckey"] is not None:
            running[("key", str(row["ckey"]))] += row["n"]
    return running


def lock_keys(candidates: Sequence[Candidate], limits: ClaimLimits) -> list[str]:
    """Every limit the candidates touch, sorted: claimers lock them in this order, so two
    never wait on each other crosswise."""
    keys: set[str] = set()
    for c in candidates:
        keys |= {f"{kind}:{name}" for (kind, name), _ in limits.caps(c.queue, c.task, c.key)}
        keys |= {f"rate:{slot}" for slot, _ in limits.rates(c.task, c.key)}
    return sorted(keys)


def rate_keys(candidates: Sequence[Candidate], limits: ClaimLimits) -> list[str]:
    return sorted({slot for c in candidates for slot, _ in limits.rates(c.task, c.key)})


def admit(
    candidates: Sequence[Candidate],
    limits: ClaimLimits,
    running: Counter[Slot],
    next_free: Mapping[str, datetime],
    now: datetime,
    want: int,
) -> Admission:
    """Up to ``want`` candidates that fit every limit they are under, in claim order."""
    admission = Admission()
    free_at = dict(next_free)
    for c in candidates:
        if len(admission.ids) >= want:
            break
        caps = limits.caps(c.queue, c.task, c.key)
        if any(running[slot] >= cap for slot, cap in caps):
            continue  # waits for a running job to end, not for a time: nothing to move
        rates = limits.rates(c.task, c.key)
        opens = max((free_at.get(rate_key, now) for rate_key, _ in rates), default=now)
        if opens > now:
            admission.held[c.id] = opens
            continue
        admission.ids.append(c.id)
        for slot, _ in caps:
            running[slot] += 1
        for rate_key, rate in rates:
            free_at[rate_key] = next_slot(free_at.get(rate_key), now, rate.interval)
            admission.slots[rate_key] = free_at[rate_key]
    return admission


def next_slot(opened: datetime | None, now: datetime, interval: timedelta) -> datetime:
    """When a rate slot opens next, after a start ``now`` in the slot that ``opened``.

    Slots are spaced ``interval`` apart from the one just used, so a claim that came a little
    late does not push every later slot back (that alone held 100/s to 75/s); a slot missed
    by more than an interval is let go, so an idle spell never builds up a burst. Hence at most
    one start more than the rate in any window of one period, and the rate on average.
    """
    if opened is None or now - opened >= interval:
        return now + interval
    return opened + interval


def limited_scan(want: int) -> int:
    """How many due jobs per queue a limited claim looks at: more than it wants, so that jobs
    of a full concurrency key do not hide all the others queued behind them."""
    return min(max(want * 4, 20), 500)


def candidate_from_row(row: Mapping[str, Any]) -> Candidate:
    key = row["ckey"]
    return Candidate(row["id"], row["queue"], row["task"], None if key is None else str(key))
