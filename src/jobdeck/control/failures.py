"""Error groups as operators see them: the Failures view's groups in a period with their
sparklines, one group, how many of its jobs a retry would touch, and the audited actions
"Retry all in this group" and "Mute"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobdeck.auditlog import Actor
from jobdeck.clock import Clock
from jobdeck.control.audit import audited
from jobdeck.control.stats import DEFAULT_PERIOD, PERIODS
from jobdeck.errors import ConfigError, ErrorGroupNotFound
from jobdeck.states import JobState
from jobdeck.store.base import ErrorGroupRow, JobFilter, Store

# How many groups one view lists: the busiest first; past this many, grouping has failed.
GROUPS_SHOWN = 100
# Jobs retried per store write: a group of 100,000 is retried in 100 short transactions, so
# workers completing jobs meanwhile wait for one batch at most, never for the whole group.
RETRY_BATCH = 1_000
RETRIED_STATES = frozenset({JobState.FAILED, JobState.RETRYABLE})
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class GroupSummary:
    """One row of the Failures view: the group and its failures per bucket, oldest first."""

    group: ErrorGroupRow
    sparkline: list[int]


@dataclass(frozen=True)
class Failures:
    period: str
    since: datetime
    until: datetime
    bucket_seconds: int
    groups: list[GroupSummary]
    include_muted: bool

    @property
    def failures(self) -> int:
        return sum(g.group.failures for g in self.groups)


def failures(
    store: Store,
    clock: Clock,
    period: str = DEFAULT_PERIOD,
    *,
    include_muted: bool = False,
    limit: int = GROUPS_SHOWN,
) -> Failures:
    """The groups that failed in the period, most failures first, each with its sparkline."""
    if period not in PERIODS:
        raise ConfigError(f"unknown period {period[:20]!r}: use one of {', '.join(PERIODS)}")
    length, bucket = PERIODS[period]
    until = clock.now()
    since = _floor(until - length, bucket)
    # The current minute's rollup row is still filling: read up to its end.
    read_until = _floor(until, 60) + timedelta(minutes=1)
    groups = store.list_error_groups(since, read_until, include_muted, limit)
    points = store.error_group_series(since, read_until, bucket, [g.fingerprint for g in groups])
    slots = int((read_until - since).total_seconds() // bucket) + 1
    lines = {g.fingerprint: [0] * slots for g in groups}
    for point in points:
        index = int((point.bucket - since).total_seconds() // bucket)
        if 0 <= index < slots:
            lines[point.fingerprint][index] += point.failures
    return Failures(
        period=period,
        since=since,
        until=until,
        bucket_seconds=bucket,
        groups=[GroupSummary(g, lines[g.fingerprint]) for g in groups],
        include_muted=include_muted,
    )


def _floor(moment: datetime, seconds: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, moment.tzinfo)


def error_group(store: Store, fingerprint: str) -> ErrorGroupRow:
    """One group with its all-time counts; ErrorGroupNotFound when there is none."""
    found = store.get_error_group(fingerprint) if _FINGERPRINT.fullmatch(fingerprint) else None
    if found is None:
        shown = fingerprint[:40]
        raise ErrorGroupNotFound(f"no error group {shown!r}: a fingerprint is 16 hex digits")
    return found


def retryable_in_group(store: Store, fingerprint: str) -> int:
    """How many jobs "Retry all in this group" would run again (its confirmation says so)."""
    error_group(store, fingerprint)
    return store.count_jobs(JobFilter(states=RETRIED_STATES, error_group=fingerprint))


def retry_error_group(
    store: Store, clock: Clock, fingerprint: str, actor: Actor, *, reason: str | None = None
) -> int:
    """Run again now every failed or retrying job whose latest failure is in the group, in
    batches; how many were retried (audited with the count)."""

    def operate() -> int:
        error_group(store, fingerprint)
        retried, after = 0, 0
        while True:
            ids = store.retry_error_group(fingerprint, clock.now(), after, RETRY_BATCH)
            retried += len(ids)
            if len(ids) < RETRY_BATCH:
                return retried
            after = ids[-1]

    return audited(
        store,
        clock,
        actor,
        "retry_error_group",
        f"error group {fingerprint[:40]}",
        operate,
        details=lambda count: {"jobs": count},
        reason=reason,
    )


def mute_error_group(
    store: Store,
    clock: Clock,
    fingerprint: str,
    actor: Actor,
    *,
    muted: bool = True,
    reason: str | None = None,
) -> ErrorGroupRow:
    """Mute a group (hidden from the Failures view by default, never alerted on), or unmute it."""

    def operate() -> ErrorGroupRow:
        group = error_group(store, fingerprint)
        store.set_error_group_muted(fingerprint, actor.name if muted else None, clock.now())
        return group

    return audited(
        store,
        clock,
        actor,
        "mute_error_group" if muted else "unmute_error_group",
        f"error group {fingerprint[:40]}",
        operate,
        details=lambda group: {"exception": group.exception, "title": group.title},
        reason=reason,
    )
