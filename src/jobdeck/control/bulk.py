"""Bulk actions on the task list: retry, cancel or delete every job a filter matches (or the
rows an operator selected), in batches, with one audit row naming the filter and the count."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from jobdeck.auditlog import Actor
from jobdeck.clock import Clock
from jobdeck.control.audit import audited
from jobdeck.control.jobs import JobQuery, to_filter
from jobdeck.control.search import hides_matches, visible_pages
from jobdeck.errors import ConfigError
from jobdeck.states import JobState
from jobdeck.store.base import BulkRequest, JobFilter, Store
from jobdeck.store.bulk import ALLOWED
from jobdeck.store.records import BulkAction

BULK_ACTIONS: tuple[BulkAction, ...] = ("retry", "cancel", "delete")
# One batch is one short write transaction: at 1,000 jobs a batch holds SQLite's write lock
# for a few milliseconds, so workers claim and complete between batches.
BATCH_SIZE = 1000
MAX_SELECTED = 500

Progress = Callable[[int], None]  # called with the running total after each batch


def bulk_act(
    store: Store,
    clock: Clock,
    action: str,
    query: JobQuery,
    actor: Actor,
    *,
    reason: str | None = None,
    redact: Iterable[str] = (),
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> int:
    """Apply ``action`` to every job ``query`` matches that the action allows (retry: failed,
    retrying, cancelled; cancel: not finished, a running job being marked for its worker to
    stop at its next heartbeat; delete: not running); the number changed."""
    if action not in BULK_ACTIONS:
        raise ConfigError(f"unknown bulk action {action!r}: use retry, cancel or delete")
    if query.ids is not None and len(query.ids) > MAX_SELECTED:
        raise ConfigError(f"{len(query.ids)} rows selected; at most {MAX_SELECTED}")
    verb: BulkAction = action  # narrowed by the check above
    filters = to_filter(store, query, redact)
    marked = [0]  # running jobs a cancel marked, for the audit row

    def act_in_batches(scope: JobFilter, done: int) -> int:
        cursor = 0
        while True:
            started = time.perf_counter()
            request = BulkRequest(verb, scope, batch_size, clock.now(), cursor, actor.name)
            batch = store.act_on_jobs(request)
            if batch.last_id is None:
                return done
            done, cursor = done + batch.changed, batch.last_id
            marked[0] += batch.running
            if progress is not None:
                progress(done)
            if store.dialect == "sqlite":
                # One writer at a time: back to back, the batches held the write lock nearly
                # always and the workers' claims and completions fell to an eighth of their
                # rate (bench/dashboard.py --bulk). Resting as long as a batch took hands
                # them half the time; PostgreSQL locks rows, not the database.
                time.sleep(time.perf_counter() - started)

    def operate() -> int:
        if not hides_matches(filters, redact) and not filters.text:
            return act_in_batches(filters, 0)
        # The matches as the list finds them, a page at a time by id: only those the list
        # shows on a deck that redacts; and with free text, each batch then acts on its ids
        # alone, as a batch's own search would read every remaining match from the index
        # again (N matches cost N^2/1,000 index rows). The ids matched moments ago.
        scope = _allowed(verb, filters)  # pages of the jobs the action takes, not every match
        done = 0
        for ids in _visible_ids(store, scope, redact) if scope.states else ():
            done = act_in_batches(replace(scope, ids=ids, text=None, newest=None), done)
        return done

    return audited(
        store,
        clock,
        actor,
        f"bulk_{action}",
        f"jobs matching {describe(query)}",
        operate,
        details=lambda n: {
            "count": n,
            "filter": filter_details(query),
            **({"running": marked[0]} if action == "cancel" else {}),
        },
        reason=reason,
    )


def bulk_count(store: Store, action: str, query: JobQuery, *, redact: Iterable[str] = ()) -> int:
    """How many jobs ``action`` would touch now: what the confirmation step says."""
    if action not in BULK_ACTIONS:
        raise ConfigError(f"unknown bulk action {action!r}: use retry, cancel or delete")
    filters = _allowed(action, to_filter(store, query, redact))
    return _count(store, filters, redact) if filters.states else 0


def bulk_running_count(store: Store, query: JobQuery, *, redact: Iterable[str] = ()) -> int:
    """How many of the jobs a bulk cancel would touch are running (their workers stop them at
    their next heartbeat): what the confirmation step says besides the total."""
    filters = to_filter(store, query, redact)
    if filters.states and JobState.RUNNING not in filters.states:
        return 0
    return _count(store, replace(filters, states=frozenset({JobState.RUNNING})), redact)


def _allowed(action: BulkAction, filters: JobFilter) -> JobFilter:
    """``filters`` narrowed to the states ``action`` takes (none left: an empty set)."""
    allowed = ALLOWED[action]
    return replace(
        filters, states=frozenset(allowed & filters.states if filters.states else allowed)
    )


def _count(store: Store, filters: JobFilter, redact: Iterable[str]) -> int:
    """The jobs a bulk action on ``filters`` touches: every match, or on a deck that redacts,
    those that match once masked (as the list shows them)."""
    if not hides_matches(filters, redact):
        return store.count_jobs(filters)
    return sum(len(ids) for ids in _visible_ids(store, filters, redact))


def _visible_ids(
    store: Store, filters: JobFilter, redact: Iterable[str]
) -> Iterator[tuple[int, ...]]:
    for shown, _ in visible_pages(store, filters, redact):
        if shown:
            yield tuple(job.id for job in shown)


def filter_details(query: JobQuery) -> dict[str, Any]:
    """The filter as the audit row records it: the fields that were set."""
    return {k: _plain(v) for k, v in asdict(query).items() if v not in (None, "", ())}


def describe(query: JobQuery) -> str:
    """``status=failed task=send`` (``all jobs`` for no filter), for the audit target."""
    fields = filter_details(query)
    if "ids" in fields:
        fields["ids"] = f"{len(fields['ids'])} selected"
    return " ".join(f"{k}={v}" for k, v in fields.items()) or "all jobs"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value
