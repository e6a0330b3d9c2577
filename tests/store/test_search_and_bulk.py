"""Search terms, capped counts by state and bulk batches on both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import BulkRequest, ClaimRequest, JobFilter, NewJob, Outcome, Store


def failed_jobs(store: Store, task: str, n: int, error: str = "ValueError: boom") -> list[int]:
    """``n`` jobs of ``task`` that failed for good (one attempt each)."""
    store.insert_jobs([NewJob(task, queue=f"q-{task}", max_attempts=1) for _ in range(n)])
    claimed = store.claim_jobs(ClaimRequest("w1", [f"q-{task}"], n, 30.0))
    now = datetime.now(UTC)
    outcomes = [
        Outcome(
            c.id,
            c.attempt,
            c.task,
            AttemptStatus.FAILED,
            JobState.FAILED,
            c.started_at,
            now,
            error=error,
            traceback="Traceback ...",
        )
        for c in claimed
    ]
    store.complete_jobs("w1", outcomes, shard=1)
    return sorted(c.id for c in claimed)


def ids_of(store: Store, filters: JobFilter) -> list[int]:
    return sorted(job.id for job in store.list_jobs(filters, None, 100))


def test_free_text_matches_arguments_labels_and_error_text(store: Store) -> None:
    (by_arg, by_label, plain) = [
        r.job_id
        for r in store.insert_jobs(
            [
                NewJob("mail", args_json=json.dumps({"to": "Ada@Example.com"})),
                NewJob("mail", labels_json=json.dumps({"tenant": "acme-corp"})),
                NewJob("mail"),
            ]
        )
    ]
    (failed,) = failed_jobs(store, "sync", 1, error="TimeoutError: upstream slow")
    assert ids_of(store, JobFilter(text="ada@example")) == [by_arg]
    assert ids_of(store, JobFilter(text="acme")) == [by_label]
    assert ids_of(store, JobFilter(text="upstream slow")) == [failed]
    assert ids_of(store, JobFilter(text="nowhere")) == []
    assert plain not in ids_of(store, JobFilter(text="a"))


def test_terms_match_an_argument_path_or_a_label_exactly(store: Store) -> None:
    jobs = [
        NewJob("t", args_json=json.dumps({"user_id": 42, "opts": {"dry": True}})),
        NewJob("t", args_json=json.dumps({"user_id": 421})),
        NewJob("t", labels_json=json.dumps({"event": "claim"})),
    ]
    (a, _, c) = [r.job_id for r in store.insert_jobs(jobs)]
    assert ids_of(store, JobFilter(arg_terms=(("user_id", "42"),))) == [a]
    assert ids_of(store, JobFilter(arg_terms=(("opts.dry", "true"),))) == [a]
    assert ids_of(store, JobFilter(arg_terms=(("user_id", "42"), ("opts.dry", "false")))) == []
    assert ids_of(store, JobFilter(label_terms=(("event", "claim"),))) == [c]
    assert ids_of(store, JobFilter(label_terms=(("event", "clai"),))) == []


def test_a_search_looks_at_the_newest_jobs_only(store: Store) -> None:
    old, new = [r.job_id for r in store.insert_jobs([NewJob("t"), NewJob("t")])]
    assert ids_of(store, JobFilter(text="{}")) == [old, new]
    assert ids_of(store, JobFilter(text="{}", newest=1)) == [new]
    assert store.count_jobs(JobFilter(text="{}", newest=1)) == 1
    # The window ends where the filter's id range does (a date range narrows to one).
    assert ids_of(store, JobFilter(text="{}", newest=1, max_id=old)) == [old]


def test_counts_by_state_follow_the_filter_and_stop_at_the_cap(store: Store) -> None:
    store.insert_jobs([NewJob("a") for _ in range(3)] + [NewJob("b")])
    failed_jobs(store, "a", 2)
    assert store.count_jobs_by_state(JobFilter(), 100) == {
        JobState.AVAILABLE: 4,
        JobState.FAILED: 2,
    }
    assert store.count_jobs_by_state(JobFilter(tasks=["b"]), 100) == {JobState.AVAILABLE: 1}
    assert store.count_jobs_by_state(JobFilter(), 2) == {
        JobState.AVAILABLE: 2,
        JobState.FAILED: 2,
    }
    # A search counts the states of its newest matches, up to the cap in all.
    assert store.count_jobs_by_state(JobFilter(text="boom"), 100) == {JobState.FAILED: 2}
    assert sum(store.count_jobs_by_state(JobFilter(text="{}"), 3).values()) == 3


def test_a_bulk_retry_goes_in_batches_and_touches_only_what_it_may(store: Store) -> None:
    failed = failed_jobs(store, "a", 5)
    other = failed_jobs(store, "b", 1)
    (pending,) = [r.job_id for r in store.insert_jobs([NewJob("a")])]
    now = datetime.now(UTC)
    filters = JobFilter(tasks=["a"])
    first = store.act_on_jobs(BulkRequest("retry", filters, 2, now))
    assert (first.changed, first.last_id) == (2, failed[1])
    second = store.act_on_jobs(BulkRequest("retry", filters, 10, now, first.last_id or 0))
    assert (second.changed, second.last_id) == (3, failed[4])
    done = store.act_on_jobs(BulkRequest("retry", filters, 10, now, second.last_id or 0))
    assert (done.changed, done.last_id) == (0, None)
    assert {store.get_job(i).state for i in failed} == {JobState.AVAILABLE}
    assert store.get_job(other[0]).state == JobState.FAILED
    assert store.get_job(pending).state == JobState.AVAILABLE
    # One more attempt each, as a single retry gives.
    assert store.get_job(failed[0]).max_attempts == 2


def test_bulk_cancel_marks_running_jobs_and_delete_leaves_them_alone(store: Store) -> None:
    ids = [r.job_id for r in store.insert_jobs([NewJob("a") for _ in range(4)])]
    (running,) = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    now = datetime.now(UTC)
    cancelled = store.act_on_jobs(BulkRequest("cancel", JobFilter(), 100, now, actor="cli:bo"))
    assert (cancelled.changed, cancelled.running) == (4, 1)
    row = store.get_job(running.id)
    assert row.state == JobState.RUNNING and row.cancelled_by == "cli:bo"
    chosen = JobFilter(ids=(ids[1], running.id))
    deleted = store.act_on_jobs(BulkRequest("delete", chosen, 100, now))
    assert deleted.changed == 1
    assert store.get_job(ids[1]) is None
    assert store.get_job(running.id) is not None
    # A filter on states the action never changes is nothing to do.
    none = store.act_on_jobs(
        BulkRequest("retry", JobFilter(states=frozenset({JobState.RUNNING})), 9, now)
    )
    assert (none.changed, none.last_id) == (0, None)
