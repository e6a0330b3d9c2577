"""Task-list queries that stay on an index at any table size, written once for both dialects.

A filter on several states or task names is split into one branch per (task, state) pair.
Each branch is an equality query that walks an index newest-first and stops after one page;
the branches are merged here. A single "state IN (...)" query instead makes the database
either sort every match or scan the table backwards hoping to meet them (380 ms at a million
jobs when nothing matches).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from jobdeck.errors import ConfigError
from jobdeck.states import JobState
from jobdeck.store.dialect import Reader, Row, where_of
from jobdeck.store.records import JobFilter, JobRow
from jobdeck.store.rows import from_row
from jobdeck.store.search import fts_phrase, like_pattern, search_parts


def list_jobs(
    db: Reader, filters: JobFilter, before_id: int | None, limit: int, after_id: int | None
) -> list[JobRow]:
    """One page of the task list in display order (newest first): dates are narrowed to ids,
    the filter is split into index-walking branches and the pages merged. ``before_id`` pages
    to older jobs, ``after_id`` to newer ones."""
    newest_first = after_id is None
    query = "list_jobs" if newest_first else "list_jobs_ascending"

    def one_branch(branch: JobFilter) -> list[JobRow]:
        rows: Sequence[Row]
        if branch.search_part == "indexed":
            rows = indexed_rows(db, branch, (before_id, after_id), limit, query)
        else:
            where, params = filter_where(db, branch, before_id, after_id)
            rows = db.read(query, {**params, "limit": limit}, where=where)
        return [from_row(JobRow, r, db.parse_time) for r in rows]

    def one_part(part: JobFilter) -> list[JobRow]:
        if part.search_part == "indexed":
            return one_branch(part)  # a chunk of candidates is filtered at once, unsplit
        return list_in_branches(part, limit, newest_first, one_branch)

    pages = [one_part(part) for part in search_parts(db, narrow(db, filters))]
    jobs = merge_pages(pages, limit, newest_first)
    return jobs if newest_first else jobs[::-1]


def count_jobs(db: Reader, filters: JobFilter) -> int:
    total = 0
    for part in search_parts(db, narrow(db, filters)):
        where, params = filter_where(db, part, None, None)
        query = "count_jobs_indexed" if part.search_part == "indexed" else "count_jobs"
        total += int(db.read(query, params, where=where)[0]["n"])
    return total


def narrow(db: Reader, filters: JobFilter) -> JobFilter:
    """Id bounds for the date range and the search window, so each is a short index range
    (the window bounds only the part of a search the index does not serve)."""
    filters = narrow_by_dates(filters, lambda: _id_bounds(db), lambda i: _job_at_or_after(db, i))
    if filters.newest is None:
        return filters
    bounds = _id_bounds(db)
    if bounds is None:
        return filters
    # The window ends where the filter does: a date range a month back searches its own
    # newest jobs, not the table's.
    top = min(bounds[1], filters.max_id) if filters.max_id is not None else bounds[1]
    return replace(filters, window_min_id=top - filters.newest + 1)


def count_by_state(db: Reader, filters: JobFilter, cap: int) -> dict[JobState, int]:
    """Jobs matching ``filters`` in each state, each count stopping at ``cap``.

    Without search terms, one capped count per state: each is a walk of the (state, id) or
    (task, state, id) index that stops at ``cap``. A search reads the newest ``cap`` matches
    once (of each part, see store/search.py) and counts their states (a total at ``cap``
    means "or more").
    """
    filters = narrow(db, filters)
    if filters.searches:
        return _count_recent_matches(db, search_parts(db, filters), cap)
    counts: dict[JobState, int] = {}
    for state in sorted(filters.states or JobState):
        one = replace(filters, states=frozenset({state}))
        where, params = filter_where(db, one, None, None)
        n = int(db.read("count_capped", {**params, "cap": cap}, where=where)[0]["n"])
        if n:
            counts[state] = n
    return counts


def _count_recent_matches(db: Reader, parts: list[JobFilter], cap: int) -> dict[JobState, int]:
    if len(parts) == 1:
        where, params = filter_where(db, parts[0], None, None)
        rows = db.read("count_recent_by_state", {**params, "cap": cap}, where=where)
        return {JobState(r["state"]): int(r["n"]) for r in rows}
    newest: list[tuple[int, str]] = []
    for part in parts:
        if part.search_part == "indexed":
            rows = indexed_rows(db, part, (None, None), cap, "recent_states")
        else:
            where, params = filter_where(db, part, None, None)
            rows = db.read("recent_states", {**params, "cap": cap}, where=where)
        newest.extend((int(r["id"]), str(r["state"])) for r in rows)
    counts: dict[JobState, int] = {}
    for _, state in heapq.nlargest(cap, newest):
        counts[JobState(state)] = counts.get(JobState(state), 0) + 1
    return counts


# The indexed part of a search reads the ids of its matches from the index, a chunk at a time
# in id order, then the jobs among them that pass the other filters and the mark. A join of
# the index to jobs (PostgreSQL) looked every match up in jobs before its LIMIT: 100 ms for a
# text one job in fifty holds at a million jobs. Chunks grow while few candidates pass.
FIRST_CHUNK = 200
MAX_CHUNK = 50_000

Cursor = tuple[int | None, int | None]  # (before_id, after_id)


def indexed_rows(db: Reader, part: JobFilter, cursor: Cursor, limit: int, query: str) -> list[Row]:
    """Up to ``limit`` rows of ``query`` (list_jobs, list_jobs_ascending or recent_states)
    over the jobs the index matches for ``part``, newest first unless the query ascends."""
    before_id, after_id = cursor
    ascending = query.endswith("_ascending")
    rows: list[Row] = []
    chunk = max(FIRST_CHUNK, limit)
    while len(rows) < limit:
        ids = _candidates(db, part, (before_id, after_id), chunk, ascending)
        among = _among(part, ids)
        if among.ids:
            where, params = filter_where(db, among, None, None)
            left = limit - len(rows)
            rows.extend(db.read(query, {**params, "limit": left, "cap": left}, where=where))
        if len(ids) < chunk:
            break
        before_id, after_id = (before_id, ids[-1]) if ascending else (ids[-1], after_id)
        chunk = min(4 * chunk, MAX_CHUNK)
    return rows


def _candidates(
    db: Reader, part: JobFilter, cursor: Cursor, chunk: int, ascending: bool
) -> list[int]:
    bounds = _id_range(part, *cursor)
    bounded = bounds["id_low"] > 0 or bounds["id_high"] < _LAST_ID
    where = db.clause("where_candidate_ids") if bounded else db.true
    text = part.text or ""
    params = {**bounds, "chunk": chunk, "fts_phrase": fts_phrase(text)}
    params["like_pattern"] = like_pattern(text)
    query = "search_candidates_ascending" if ascending else "search_candidates"
    return [int(r["id"]) for r in db.read(query, params, where=where)]


def _among(part: JobFilter, ids: list[int]) -> JobFilter:
    """The part's filter over these candidates (and the rows an operator selected, if any)."""
    chosen = ids if part.ids is None else [i for i in ids if i in set(part.ids)]
    return replace(part, ids=tuple(chosen), search_part="candidates", text=None)


def merge_pages(pages: list[list[JobRow]], limit: int, newest_first: bool) -> list[JobRow]:
    """The first ``limit`` rows of pages each already in display order."""
    if len(pages) == 1:
        return pages[0][:limit]
    key: Callable[[JobRow], int] = (lambda job: -job.id) if newest_first else (lambda job: job.id)
    return list(itertools.islice(heapq.merge(*pages, key=key), limit))


def filter_where(
    db: Reader, filters: JobFilter, before_id: int | None, after_id: int | None
) -> tuple[str, dict[str, Any]]:
    """The WHERE text of a filter, from the dialect's fragments, and its parameters."""
    names = filter_clauses(filters, before_id, after_id, single_values=True)
    where = where_of(db, names)
    if filters.search_part == "either":
        # One batch of a bulk action sees both parts at once (store/search.py).
        window = ["where_window"] if filters.window_min_id is not None else []
        scanned = where_of(db, ["where_unindexed", "where_text", *window])
        where = f"{where} AND ({db.clause('where_indexed_in')} OR ({scanned}))"
    mark = filters.search_mark
    params = {
        "states": db.encode_list(sorted(str(s) for s in filters.states or ())),
        "tasks": db.encode_list(list(filters.tasks or ())),
        "state": next(iter(filters.states)) if filters.states else None,
        "task": filters.tasks[0] if filters.tasks else None,
        "queue": filters.queue,
        "schedule": filters.schedule,
        "error_group": filters.error_group,
        "enqueued_from": db.encode_time(filters.enqueued_from),
        "enqueued_to": db.encode_time(filters.enqueued_to),
        "before_id": before_id,
        "after_id": after_id,
        "min_id": filters.min_id,
        "max_id": filters.max_id,
        **_id_range(filters, before_id, after_id),
        "window_min_id": filters.window_min_id,
        "text": filters.text,
        "fts_phrase": fts_phrase(filters.text) if filters.text else None,
        "like_pattern": like_pattern(filters.text) if filters.text else None,
        "mark_at": db.encode_time(mark.finished_at) if mark else None,
        "mark_id": mark.job_id if mark else None,
        "ids": db.encode_list(list(filters.ids or ())),
        **_term_params("arg", filters.arg_terms),
        **_term_params("label", filters.label_terms),
    }
    return where, params


def filter_clauses(
    filters: JobFilter,
    before_id: int | None,
    after_id: int | None = None,
    single_values: bool = False,
) -> list[str]:
    """Names of the ``where_*`` query fragments a filter needs, in a fixed order.

    With ``single_values``, a one-element state or task list becomes an equality
    (``where_state`` / ``where_task``) so the database walks the matching index in id order.
    """
    one_state = single_values and filters.states is not None and len(filters.states) == 1
    one_task = single_values and filters.tasks is not None and len(filters.tasks) == 1
    wanted = {
        "where_state": one_state,
        "where_states": filters.states is not None and not one_state,
        "where_task": one_task,
        "where_tasks": filters.tasks is not None and not one_task,
        "where_queue": filters.queue is not None,
        "where_schedule": filters.schedule is not None,
        "where_error_group": filters.error_group is not None,
        "where_enqueued_from": filters.enqueued_from is not None,
        "where_enqueued_to": filters.enqueued_to is not None,
        "where_before_id": before_id is not None,
        "where_min_id": filters.min_id is not None,
        "where_max_id": filters.max_id is not None,
        "where_after_id": after_id is not None,
        "where_ids": filters.ids is not None,
        **_search_clauses(filters),
        **{f"where_arg_{i}": i < len(filters.arg_terms) for i in range(MAX_TERMS)},
        **{f"where_label_{i}": i < len(filters.label_terms) for i in range(MAX_TERMS)},
    }
    return [name for name, needed in wanted.items() if needed]


_LAST_ID = 2**63 - 1


def _id_range(filters: JobFilter, before_id: int | None, after_id: int | None) -> dict[str, int]:
    """The page's and the dates' id bounds as one inclusive range, for a search's walk of
    job_search (FTS5 takes one lower and one upper bound on its rowid)."""
    low = max(after_id + 1 if after_id is not None else 0, filters.min_id or 0)
    high = min(before_id - 1 if before_id is not None else _LAST_ID, filters.max_id or _LAST_ID)
    # Cursors come from requests: one past the last id still has to fit the databases' int64.
    return {"id_low": min(low, _LAST_ID), "id_high": max(high, 0)}


def _search_clauses(filters: JobFilter) -> dict[str, bool]:
    """The free-text and window fragments of each part of a search (store/search.py); the
    "either" part's are joined by filter_where."""
    part = filters.search_part
    text = bool(filters.text) and part is None
    return {
        "where_indexed": part == "indexed",
        "where_indexed_mark": part == "candidates",
        "where_unindexed": part == "scanned",
        "where_text": text or part == "scanned",
        "where_window": filters.window_min_id is not None and part in (None, "scanned"),
    }


# Search terms of each kind a filter may hold: one fixed fragment each. A fragment per term
# is a plain expression per row; a JSON list of terms joined per row (json_each) cost 3-4x.
MAX_TERMS = 3


def _term_params(kind: str, terms: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    if len(terms) > MAX_TERMS:
        raise ConfigError(f"at most {MAX_TERMS} {kind}.path:value terms in one search")
    params: dict[str, Any] = {}
    for i in range(MAX_TERMS):
        path, value = terms[i] if i < len(terms) else (None, None)
        params[f"{kind}_path_{i}"], params[f"{kind}_value_{i}"] = path, value
    return params


def _id_bounds(db: Reader) -> tuple[int, int] | None:
    """The lowest and highest job id; None when there are no jobs."""
    row = db.read("job_id_bounds")[0]
    return None if row["low"] is None else (int(row["low"]), int(row["high"]))


def _job_at_or_after(db: Reader, job_id: int) -> tuple[int, datetime] | None:
    rows = db.read("job_at_or_after", {"id": job_id})
    found = db.parse_time(rows[0]["enqueued_at"]) if rows else None
    return (int(rows[0]["id"]), found) if rows and found is not None else None


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
