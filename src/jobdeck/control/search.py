"""The task list's search box: what an operator types, read as a job id, ``key:value`` terms
and free text; and the masking of the argument keys a deck marks sensitive.

``args.user_id:42`` matches an argument path (dots go down into objects), ``label.event:claim``
a label; every other word is free text, matched (case-insensitively, as one phrase) in the
arguments, labels, result summary and error. Text of 3+ characters is looked up in the
search index for every finished job the worker has indexed (store/search.py); the jobs it has
not (pending, running, finished in the last half minute, retried), shorter text and terms
alone are scanned within the newest ``SEARCH_WINDOW`` jobs of the other filters, the bound
that keeps a scan with no match as fast as one with many (docs/performance.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from jobdeck.errors import ConfigError
from jobdeck.store.base import JobFilter, JobRow, Store
from jobdeck.store.listing import MAX_TERMS
from jobdeck.store.search import indexable

SEARCH_WINDOW = 20_000
MAX_SEARCH = 200
MASK = "[redacted]"

_PATH = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\Z")
_PREFIXES = {"args": "args", "arg": "args", "label": "labels", "labels": "labels"}


@dataclass(frozen=True)
class Search:
    """A parsed search: a job id to open, or terms for the list."""

    job_id: int | None = None
    text: str | None = None  # lower-cased
    arg_terms: tuple[tuple[str, str], ...] = ()
    label_terms: tuple[tuple[str, str], ...] = ()


def parse_search(raw: str | None, redact: Iterable[str] = ()) -> Search:
    """Read the search box; a term on a redacted key is refused (it would reveal the value)."""
    text = (raw or "").strip()
    if len(text) > MAX_SEARCH:
        raise ConfigError(f"the search is {len(text)} characters long; at most {MAX_SEARCH}")
    if "\x00" in text:
        raise ConfigError("the search holds a NUL character")
    if not text:
        return Search()
    bare = text.removeprefix("#")
    if bare.isdigit() and len(bare) < 19:
        return Search(job_id=int(bare), text=bare)
    hidden = {k.lower() for k in redact}
    words: list[str] = []
    terms: dict[str, list[tuple[str, str]]] = {"args": [], "labels": []}
    for word in text.split():
        term = _term(word)
        if term is None:
            words.append(word)
            continue
        column, path, value = term
        if column == "args" and hidden & {part.lower() for part in path.split(".")}:
            raise ConfigError(f"args.{path} is redacted on this deck: it cannot be searched")
        terms[column].append((path, value))
        if len(terms[column]) > MAX_TERMS:
            raise ConfigError(f"at most {MAX_TERMS} {column}.path:value terms in one search")
    return Search(
        text=" ".join(words).lower() or None,
        arg_terms=tuple(terms["args"]),
        label_terms=tuple(terms["labels"]),
    )


def reaches_every_job(raw: str | None) -> bool:
    """Whether a search's free text is looked up in the search index (3+ characters), so it
    reaches every finished job, not only the newest ``SEARCH_WINDOW``."""
    try:
        return indexable(parse_search(raw).text)
    except ConfigError:
        return False


def _term(word: str) -> tuple[str, str, str] | None:
    """``args.a.b:1`` -> ("args", "a.b", "1"); None for a word that is not a term."""
    key, colon, value = word.partition(":")
    prefix, dot, path = key.partition(".")
    if not colon or not dot or prefix.lower() not in _PREFIXES:
        return None
    if not _PATH.match(path):
        raise ConfigError(f"{key!r}: a path is names joined by dots, like args.user.id")
    return _PREFIXES[prefix.lower()], path, value.strip('"')


def redacted(value: Any, keys: frozenset[str]) -> Any:
    """``value`` with every object member whose key is in ``keys`` (any case) masked."""
    if isinstance(value, Mapping):
        return {k: MASK if str(k).lower() in keys else redacted(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(item, keys) for item in value]
    return value


def redact_job(job: JobRow, redact: Iterable[str]) -> JobRow:
    """The job as views show it: sensitive argument keys masked."""
    keys = frozenset(k.lower() for k in redact)
    return replace(job, args=redacted(job.args, keys)) if keys else job


def matches_visibly(job: JobRow, text: str | None) -> bool:
    """Whether free text still matches the job once masked: a row that matched only inside a
    redacted value is dropped, or the search would tell whoever types a guess that it is
    right."""
    if not text:
        return True
    seen = [
        json.dumps(job.args, ensure_ascii=False),
        json.dumps(job.labels, ensure_ascii=False),
        job.summary or "",
        job.error or "",
    ]
    return any(text in part.lower() for part in seen)


def hides_matches(filters: JobFilter, redact: Iterable[str]) -> bool:
    """Whether some of the store's matches for ``filters`` may match only inside a redacted
    value: free text on a deck with sensitive keys. The store matches the stored text; what a
    view may count or act on is what it could show."""
    return bool(filters.text) and any(redact)


# Rows read per page while sifting the store's matches for the visible ones.
SIFT_PAGE = 500


def visible_pages(
    store: Store, filters: JobFilter, redact: Iterable[str], read_at_most: int | None = None
) -> Iterator[tuple[list[JobRow], int]]:
    """The store's matches, newest first, a page at a time: each page's jobs that match once
    masked (``matches_visibly``), with how many matches were read so far. Stops after
    ``read_at_most`` matches, if given."""
    keys = tuple(redact)
    before: int | None = None
    read = 0
    while read_at_most is None or read < read_at_most:
        size = SIFT_PAGE if read_at_most is None else min(SIFT_PAGE, read_at_most - read)
        rows = store.list_jobs(filters, before, size)
        read += len(rows)
        shown = [redact_job(job, keys) for job in rows]
        # Sifted only where redaction could hide a match, as list_page does: the check reads
        # the text as Python writes JSON, which is not always as the store holds it.
        yield [job for job in shown if matches_visibly(job, filters.text)] if keys else shown, read
        if len(rows) < size:
            return
        before = rows[-1].id
