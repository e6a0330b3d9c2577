"""What the deck's concurrency and rate limits are doing now: the drawer's "waiting because"
line for one job, and the Queues page's table of limits with how full each one is.

Both read the limits this process declares (the same deck its workers run) and one
``limit_usage`` read of the store: the running jobs per queue, task and key, and each rate
slot's next free moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from jobdeck.states import JobState
from jobdeck.store.base import JobRow
from jobdeck.store.limiting import KEY_LABEL, ClaimLimits, LimitUsage
from jobdeck.tasks import claim_limits

if TYPE_CHECKING:
    from jobdeck.deck import Deck

_WAITING = (JobState.SCHEDULED, JobState.AVAILABLE, JobState.RETRYABLE)


@dataclass(frozen=True)
class LimitView:
    """One limit on the Queues page: ``what`` (queue mail, task send, key tenant:42)."""

    what: str
    kind: str  # "concurrency" or "rate"
    limit: str  # "5 at once" or "100/m"
    running: int | None  # concurrency: how many run now
    cap: int | None
    next_free_at: datetime | None  # rate: when the next start may be

    @property
    def full(self) -> bool:
        return self.cap is not None and self.running is not None and self.running >= self.cap


def deck_limits(deck: Deck) -> ClaimLimits:
    return claim_limits(deck.tasks.values(), deck.settings.queue_limits or {})


def waiting_because(deck: Deck, job: JobRow, now: datetime) -> str | None:
    """Why a due job has not started, when a limit is the reason: "waiting: 5/5 of queue mail
    running" or "rate limit 100/m of task send: next start at 12:00:01.200 UTC"; else None."""
    limits = deck_limits(deck)
    if job.state not in _WAITING or not limits:
        return None
    key = job.labels.get(KEY_LABEL)
    key = key if isinstance(key, str) else None
    caps = limits.caps(job.queue, job.task, key)
    rates = limits.rates(job.task, key)
    if not caps and not rates:
        return None
    usage = deck.store.limit_usage()
    for (kind, name), cap in caps:
        if usage.running[(kind, name)] >= cap:
            return f"waiting: {usage.running[(kind, name)]}/{cap} of {kind} {name} running"
    for slot, rate in rates:
        opens = usage.next_free.get(slot)
        if opens is not None and opens > now:
            kind, _, name = slot.partition(":")
            at = f"{opens:%H:%M:%S}.{opens.microsecond // 1000:03d}"
            return f"rate limit {rate} of {kind} {name}: next start at {at} UTC"
    return None


def limit_views(deck: Deck, usage: LimitUsage | None = None) -> list[LimitView]:
    """Every limit the deck declares, with what it holds now (keys: those with jobs running
    or a rate slot taken, since keys are not declared one by one)."""
    limits = deck_limits(deck)
    if not limits:
        return []
    usage = usage or deck.store.limit_usage()
    views = [_concurrency("queue", q, cap, usage) for q, cap in sorted(limits.queues.items())] + [
        _concurrency("task", t, cap, usage) for t, cap in sorted(limits.tasks.items())
    ]
    for task, cap in sorted(limits.per_key.items()):
        for (kind, key), running in sorted(usage.running.items()):
            if kind == "key" and running:
                views.append(_concurrency("key", key, cap, usage, f" (task {task})"))
    for task, rate in sorted(limits.task_rates.items()):
        views.append(_rate(f"task {task}", str(rate), usage.next_free.get(f"task:{task}")))
    for task, rate in sorted(limits.key_rates.items()):
        for slot, opens in sorted(usage.next_free.items()):
            if slot.startswith("key:"):
                views.append(_rate(f"key {slot[4:]} (task {task})", str(rate), opens))
    return views


def _concurrency(kind: str, name: str, cap: int, usage: LimitUsage, note: str = "") -> LimitView:
    running = usage.running[(kind, name)]
    return LimitView(f"{kind} {name}{note}", "concurrency", f"{cap} at once", running, cap, None)


def _rate(what: str, rate: str, opens: datetime | None) -> LimitView:
    return LimitView(what, "rate", rate, None, None, opens)
