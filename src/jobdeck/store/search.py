"""The task list's search index, the part both dialects share: which searches it serves, the
patterns it is asked with, and how a search splits into the indexed jobs and the others.

Only finished jobs are indexed (their text is final), by the worker's SearchIndexer, in
(finished_at, id) order up to ``SEARCH_LAG`` ago; ``search_progress`` records how far it got.
A search reads two disjoint parts of the jobs, together all of them: those finished at or
before the mark, through the index, and every other one (unfinished, finished since, retried)
by the substring scan, which stays bounded to the newest jobs (``JobFilter.newest``). A job
that is retried leaves the indexed part at once (its finished_at is cleared or moves past the
mark), so its old text can never match; the indexer writes its new text when it passes it again.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from jobdeck.store.dialect import Reader
from jobdeck.store.records import JobFilter, SearchMark

# Jobs finished less than this long ago are left to the scan: a completion that commits late
# (PostgreSQL stamps finished_at before its commit) or a clock a little behind is not skipped.
SEARCH_LAG = timedelta(seconds=30)

# Trigram indexes find a substring of 3+ characters; a shorter search is the window's scan.
MIN_INDEXED = 3

# Characters that are wildcards in LIKE: a search needs 3 plain characters in a row for the
# trigram GIN index to narrow the candidates (it reads the whole index otherwise); SQLite's
# phrase queries need no such rule, and both dialects keep the one rule.
_PLAIN_RUN = re.compile(r"[^%_\\]{" + str(MIN_INDEXED) + ",}")


def indexable(text: str | None) -> bool:
    """Whether the index serves this (lower-cased) search text."""
    return bool(text) and _PLAIN_RUN.search(text or "") is not None


def fts_phrase(text: str) -> str:
    """``text`` as an FTS5 phrase (SQLite): every character literal, quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def like_pattern(text: str) -> str:
    """``text`` anywhere, for PostgreSQL's LIKE (whose escape character is the backslash)."""
    return "%" + re.sub(r"([%_\\])", r"\\\1", text) + "%"


def search_mark(db: Reader) -> SearchMark:
    row = db.read("search_mark")[0]
    finished_at = db.parse_time(row["finished_at"])
    if finished_at is None:
        raise ValueError("search_progress has no time")  # the migration writes one
    return SearchMark(finished_at, int(row["job_id"]))


def search_parts(db: Reader, filters: JobFilter) -> list[JobFilter]:
    """The filter as the queries that cover it: itself when the index does not serve its
    text, else its indexed part and its scanned part (disjoint; merged by the caller).

    Two queries, not one with OR: each then walks its own index newest-first and stops after
    a page, where an OR of an index lookup and a scan makes the planner pick one plan for both.
    """
    if not indexable(filters.text):
        return [filters]
    mark = search_mark(db)
    return [
        replace(filters, search_mark=mark, search_part="indexed", window_min_id=None),
        replace(filters, search_mark=mark, search_part="scanned"),
    ]


def search_either(db: Reader, filters: JobFilter) -> JobFilter:
    """The filter as one WHERE over both parts, for the bulk actions' batches."""
    if not indexable(filters.text):
        return filters
    return replace(filters, search_mark=search_mark(db), search_part="either")
