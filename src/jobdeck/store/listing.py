"""Task-list queries that stay on an index at any table size.

A filter on several states or task names is split into one branch per (task, state) pair.
Each branch is an equality query that walks an index newest-first and stops after one page;
the branches are merged here. A single "state IN (...)" query instead makes the database
either sort every match or scan the table backwards hoping to meet them (380 ms at a million
jobs when nothing matches).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from jobdeck.states import JobState
from jobdeck.store.base import JobFilter, JobRow

MAX_BRANCHES = 64

# A job id to (the first job id at or after it, its enqueue time), or None past the last job.
Probe = Callable[[int], "tuple[int, datetime] | None"]


def split_filter(filters: JobFilter) -> list[JobFilter] | None:
    """One filter per (task, state) pair, or None when the filter is already a single query.

    A task without states is split over every state too: the (task, state, id) index is the
    only one that leads with the task (a (task, id) index cost every claim and completion an
    index entry, for this one page).
    """
    tasks = sorted(filters.tasks) if filters.tasks is not None else [None]
    if filters.tasks is not None and not filters.tasks:
        return []  # the text matched no task name: nothing can match
    if filters.states:
        states: list[JobState | None] = [*sorted(filters.states)]
    elif filters.tasks is not None:
        states = list(JobState)
    else:
        states = [None]
    if len(states) * len(tasks) <= 1 or len(states) * len(tasks) > MAX_BRANCHES:
        return None
    return [
        replace(filters, states=frozenset({s}) if s else None, tasks=[t] if t else None)
        for s, t in itertools.product(states, tasks)
    ]


PageQuery = Callable[[JobFilter], list[JobRow]]


def list_page(
    filters: JobFilter,
    limit: int,
    newest_first: bool,
    *,
    query: PageQuery,
    id_bounds: Callable[[], tuple[int, int] | None],
    probe: Probe,
) -> list[JobRow]:
    """One page of the task list in display order (newest first), for any store: dates are
    narrowed to ids, the filter is split into index-walking branches and the pages merged.

    ``query`` runs one branch in the page's id order; ``id_bounds`` gives the lowest and
    highest job id (None when there are no jobs); ``probe`` is ``narrow_by_dates``'.
    """
    filters = narrow_by_dates(filters, id_bounds, probe)
    jobs = list_in_branches(filters, limit, newest_first, query)
    return jobs if newest_first else jobs[::-1]


def list_in_branches(
    filters: JobFilter,
    limit: int,
    newest_first: bool,
    query: PageQuery,
) -> list[JobRow]:
    """Run ``query`` per branch and keep the first ``limit`` rows in id order."""
    branches = split_filter(filters)
    if branches is None:
        return query(filters)
    pages = [query(branch) for branch in branches]
    key: Callable[[JobRow], int] = (lambda job: -job.id) if newest_first else (lambda job: job.id)
    return list(itertools.islice(heapq.merge(*pages, key=key), limit))


# Ids grow with enqueue time, give or take concurrent inserts; keep this many ids of slack
# around the bisected bounds (the exact date predicate still decides).
ID_SLACK = 1000


def narrow_by_dates(
    filters: JobFilter, id_bounds: Callable[[], tuple[int, int] | None], probe: Probe
) -> JobFilter:
    """Add id bounds for a date range, found by bisecting the primary key, so a range a month
    back is a short index range instead of a backward scan over every newer job."""
    if filters.enqueued_from is None and filters.enqueued_to is None:
        return filters
    bounds = id_bounds()
    if bounds is None:
        return filters
    low, high = bounds
    min_id = max_id = None
    if filters.enqueued_from is not None:
        min_id = _first_id_at(filters.enqueued_from, low, high, probe) - ID_SLACK
    if filters.enqueued_to is not None:
        max_id = _first_id_at(filters.enqueued_to, low, high, probe) + ID_SLACK
    return replace(filters, min_id=min_id, max_id=max_id)


def _first_id_at(moment: datetime, low: int, high: int, probe: Probe) -> int:
    """The smallest id whose job was enqueued at or after ``moment`` (high + 1 if none)."""
    while low <= high:
        middle = (low + high) // 2
        found = probe(middle)
        if found is None:
            high = middle - 1
            continue
        found_id, enqueued_at = found
        if enqueued_at >= moment:
            high = middle - 1
        else:
            low = found_id + 1
    return low
