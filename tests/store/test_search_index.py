"""The task list's search index on both stores: what it finds past the newest-jobs window, the
jobs it has not indexed yet, retried and deleted jobs, and one indexer at a time."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from jobdeck.clock import ManualClock
from jobdeck.control import JobQuery, bulk_act, bulk_count, cli_actor
from jobdeck.control import jobs as control_jobs
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store import open_store
from jobdeck.store.base import BulkRequest, ClaimRequest, JobFilter, NewJob, Outcome, Store
from jobdeck.store.search import SEARCH_LAG
from jobdeck.worker.upkeep import SearchIndexer

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def clocked(db_url: str, clock: ManualClock) -> Iterator[Store]:
    """A store on the manual clock: jobs finish when the test says, the indexer's lag is
    counted from it."""
    opened = open_store(db_url, clock)
    try:
        yield opened
    finally:
        opened.close()


def finish(
    store: Store, clock: ManualClock, error: str, args: dict[str, object] | None = None
) -> int:
    """One job that fails for good now, with ``error`` and ``args``."""
    (new,) = store.insert_jobs([NewJob("sync", args_json=json.dumps(args or {}), max_attempts=1)])
    return fail_again(store, clock, new.job_id, error)


def fail_again(store: Store, clock: ManualClock, job_id: int, error: str) -> int:
    (claimed,) = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    assert claimed.id == job_id
    outcome = Outcome(
        claimed.id,
        claimed.attempt,
        claimed.task,
        AttemptStatus.FAILED,
        JobState.FAILED,
        claimed.started_at,
        clock.now(),
        error=error,
    )
    store.complete_jobs("w1", [outcome], shard=1)
    return job_id


def pending(store: Store, n: int) -> None:
    store.insert_jobs([NewJob("other", queue="idle") for _ in range(n)])


def index_all(store: Store, clock: ManualClock) -> int:
    """Past the lag, the indexer's batches until it has caught up."""
    clock.advance(seconds=SEARCH_LAG.total_seconds() + 1)
    total = 0
    while done := store.index_search(2):
        total += done
    return total


def found(store: Store, text: str, newest: int | None = 5, **more: object) -> list[int]:
    filters = JobFilter(text=text, newest=newest, **more)  # type: ignore[arg-type]
    return [job.id for job in store.list_jobs(filters, None, 50)]


def search_rows(db_url: str) -> int:
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM job_search").fetchone()[0])
    with psycopg.connect(db_url) as pg:
        row = pg.execute("SELECT COUNT(*) FROM job_search").fetchone()
        return int(row[0]) if row else 0


def test_a_job_older_than_the_window_is_found_once_indexed(
    clocked: Store, clock: ManualClock
) -> None:
    old = finish(clocked, clock, "KeyError: quux-lookup failed", {"customer": "Zanzibar-Trading"})
    pending(clocked, 10)  # the window of 5 newest jobs no longer reaches it
    assert found(clocked, "lookup failed") == []
    assert index_all(clocked, clock) == 1
    assert found(clocked, "lookup failed") == [old]
    assert found(clocked, "zibar-trad") == [old]  # inside a word, in the arguments
    assert found(clocked, "quux", states=frozenset({JobState.FAILED})) == [old]
    assert found(clocked, "quux", states=frozenset({JobState.SUCCEEDED})) == []
    assert clocked.count_jobs(JobFilter(text="quux", newest=5)) == 1
    by_state = clocked.count_jobs_by_state(JobFilter(text="quux", newest=5), 100)
    assert by_state == {JobState.FAILED: 1}


def test_a_cursor_at_the_last_possible_id_pages_to_nothing(
    clocked: Store, clock: ManualClock
) -> None:
    finish(clocked, clock, "TimeoutError: upstream timeout")
    index_all(clocked, clock)
    last = 2**63 - 1  # what a request may send; one past it must not overflow the int64 bound
    text = JobFilter(text="timeout", newest=5)
    assert clocked.list_jobs(text, None, 50, after_id=last) == []
    assert clocked.list_jobs(text, 0, 50) == []


def test_wildcards_in_a_search_are_literal(clocked: Store, clock: ManualClock) -> None:
    percent = finish(clocked, clock, "copied 100%_done")
    finish(clocked, clock, "copied 100xydone")
    star = finish(clocked, clock, "globbing a*b?[c] here")
    finish(clocked, clock, "globbing axxb?c here")
    index_all(clocked, clock)
    pending(clocked, 10)
    assert found(clocked, "100%_done") == [percent]
    assert found(clocked, "globbing a*b?[c]") == [star]
    assert found(clocked, "b?[c] here") == [star]
    assert found(clocked, "a*b?[c]") == [star]
    quoted = finish(clocked, clock, 'said "hello" twice')
    index_all(clocked, clock)
    pending(clocked, 10)
    assert found(clocked, '"hello" t') == [quoted]


def test_a_job_within_the_lag_is_found_by_the_scan(clocked: Store, clock: ManualClock) -> None:
    old = finish(clocked, clock, "ZeroDivisionError: ledger")
    index_all(clocked, clock)
    recent = finish(clocked, clock, "ZeroDivisionError: ledger again")
    clock.advance(seconds=5)
    assert clocked.index_search(100) == 0  # finished 5 s ago: not yet
    assert found(clocked, "zerodivisionerror") == [recent, old]
    assert clocked.count_jobs(JobFilter(text="ledger", newest=5)) == 2


def test_a_retried_job_matches_its_new_text_and_never_its_old_one(
    clocked: Store, clock: ManualClock
) -> None:
    job = finish(clocked, clock, "OldError: alpha")
    index_all(clocked, clock)
    assert found(clocked, "olderror") == [job]
    clocked.retry_job(job, clock.now())
    # Not finished any more: the scan reads the row (still holding its last error), not the index.
    assert found(clocked, "olderror", newest=None) == [job]
    fail_again(clocked, clock, job, "NewError: beta")
    assert found(clocked, "olderror") == []
    assert found(clocked, "newerror") == [job]  # not indexed yet: the scan finds it
    index_all(clocked, clock)
    pending(clocked, 10)
    assert found(clocked, "olderror") == []
    assert found(clocked, "newerror") == [job]


def test_pages_run_through_both_parts_in_id_order(clocked: Store, clock: ManualClock) -> None:
    first = [finish(clocked, clock, f"PageError {i}") for i in range(3)]
    index_all(clocked, clock)
    later = [finish(clocked, clock, f"PageError {i}") for i in range(3, 5)]
    pages, before = [], None
    while True:
        page = clocked.list_jobs(JobFilter(text="pageerror", newest=50), before, 2)
        if not page:
            break
        pages.append([job.id for job in page])
        before = page[-1].id
    assert pages == [later[::-1], [first[2], first[1]], [first[0]]]
    newer = clocked.list_jobs(JobFilter(text="pageerror", newest=50), None, 2, after_id=first[0])
    assert [job.id for job in newer] == [first[2], first[1]]


def test_a_bulk_action_reaches_indexed_jobs_outside_the_window(
    clocked: Store, clock: ManualClock
) -> None:
    old = [finish(clocked, clock, "Flaky: upstream") for _ in range(3)]
    index_all(clocked, clock)
    pending(clocked, 10)
    recent = finish(clocked, clock, "Flaky: upstream")
    filters = JobFilter(text="flaky", newest=5)
    batch = clocked.act_on_jobs(BulkRequest("retry", filters, 100, clock.now()))
    assert batch.changed == 4
    assert {clocked.get_job(i).state for i in [*old, recent]} == {JobState.AVAILABLE}  # type: ignore[union-attr]


def test_prune_and_bulk_delete_take_the_search_rows_along(
    db_url: str, clocked: Store, clock: ManualClock
) -> None:
    kept = finish(clocked, clock, "Gone: soon")
    deleted = finish(clocked, clock, "Gone: now")
    index_all(clocked, clock)
    assert search_rows(db_url) == 2
    filters = JobFilter(text="gone: now", newest=5)
    assert clocked.act_on_jobs(BulkRequest("delete", filters, 100, clock.now())).changed == 1
    assert clocked.get_job(deleted) is None
    assert search_rows(db_url) == 1
    assert clocked.prune_finished(clock.now(), 100) == 1
    assert clocked.get_job(kept) is None
    assert search_rows(db_url) == 0


def test_the_indexer_service_catches_up_in_batches(clocked: Store, clock: ManualClock) -> None:
    jobs = [finish(clocked, clock, f"Batch {i}") for i in range(5)]
    clock.advance(seconds=SEARCH_LAG.total_seconds() + 1)
    indexer = SearchIndexer(clocked, batch=2)
    indexer.run_once()
    assert indexer.indexed == 5 and not indexer.failing
    pending(clocked, 10)
    assert found(clocked, "batch") == jobs[::-1]


def test_one_indexer_at_a_time_on_postgres(db_url: str, clocked: Store, clock: ManualClock) -> None:
    if not db_url.startswith("postgres"):
        pytest.skip("SQLite has one writer at a time already")
    finish(clocked, clock, "Locked: out")
    clock.advance(seconds=SEARCH_LAG.total_seconds() + 1)
    with psycopg.connect(db_url) as other:
        other.execute("SELECT * FROM search_progress FOR UPDATE")  # another worker's batch
        assert clocked.index_search(100) == 0  # skipped, not waited for
    assert clocked.index_search(100) == 1
    assert clocked.index_search(100) == 0


def test_chunks_of_candidates_follow_one_another(
    clocked: Store, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdeck.store import listing

    monkeypatch.setattr(listing, "FIRST_CHUNK", 1)
    monkeypatch.setattr(listing, "MAX_CHUNK", 2)
    failed = [finish(clocked, clock, f"Chunked {i}") for i in range(3)]
    cancelled = [finish(clocked, clock, f"Chunked {i}") for i in range(3, 8)]
    for job_id in cancelled[:4]:
        clocked.retry_job(job_id, clock.now())
        clocked.cancel_job(job_id, clock.now())  # finished again, at the same time
    index_all(clocked, clock)
    pending(clocked, 10)
    only_failed = JobFilter(text="chunked", newest=5, states=frozenset({JobState.FAILED}))
    page = clocked.list_jobs(only_failed, None, 2)
    assert [job.id for job in page] == [cancelled[4], failed[2]]
    assert [job.id for job in clocked.list_jobs(only_failed, failed[2], 5)] == failed[1::-1]
    by_state = clocked.count_jobs_by_state(JobFilter(text="chunked", newest=5), 100)
    assert by_state == {JobState.FAILED: 4, JobState.CANCELLED: 4}


def test_the_index_matches_what_the_scan_matched(clocked: Store, clock: ManualClock) -> None:
    """Each dialect lower-cases as its scan does (SQLite: ASCII only), so a job found, or not,
    before it is indexed is found, or not, after."""
    job = finish(clocked, clock, "Ärger im Büro: ÉTAT")
    searches = ["ärger im", "Ärger im".lower(), "büro: é", "r im b"]
    before = {text: found(clocked, text) for text in searches}
    index_all(clocked, clock)
    assert {text: found(clocked, text) for text in searches} == before
    assert before["r im b"] == [job]


def test_a_bulk_retry_by_text_takes_every_match_of_both_parts_by_id(
    clocked: Store, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """control.bulk_act pages a free-text search's matches as the list finds them (the index's
    old jobs past the window, the scan's new ones) and acts on their ids: the count it
    confirms with, no more, no other."""
    monkeypatch.setattr(control_jobs, "SEARCH_WINDOW", 5)
    old = [finish(clocked, clock, "Flaky: upstream") for _ in range(5)]
    other = finish(clocked, clock, "Other: thing")
    index_all(clocked, clock)
    pending(clocked, 10)  # the old ones are past the window: only the index finds them
    recent = finish(clocked, clock, "Flaky: upstream")  # not indexed yet: the scan finds it
    query = JobQuery(search="flaky")
    assert bulk_count(clocked, "retry", query) == 6
    assert bulk_act(clocked, clock, "retry", query, cli_actor(), batch_size=2) == 6
    states = {i: clocked.get_job(i).state for i in [*old, recent, other]}  # type: ignore[union-attr]
    assert states == {**{i: JobState.AVAILABLE for i in [*old, recent]}, other: JobState.FAILED}
    assert bulk_count(clocked, "retry", query) == 0


def test_a_bulk_retry_by_text_takes_a_match_python_would_write_differently(
    clocked: Store, clock: ManualClock
) -> None:
    """Both stores match the arguments' text as it was sent (compact here); Python's
    json.dumps writes it otherwise. On a deck that redacts nothing, the bulk acts on every
    match the store counts."""
    (new,) = clocked.insert_jobs([NewJob("sync", args_json='{"b":1,"a":2}', max_attempts=1)])
    job = fail_again(clocked, clock, new.job_id, "Boom")
    index_all(clocked, clock)
    query = JobQuery(search='1,"a"')  # in the stored text, not in '{"b": 1, "a": 2}'
    assert bulk_count(clocked, "retry", query) == 1
    assert bulk_act(clocked, clock, "retry", query, cli_actor()) == 1
    assert clocked.get_job(job).state == JobState.AVAILABLE  # type: ignore[union-attr]
