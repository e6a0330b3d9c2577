"""Bulk actions' batches, the part both dialects share: which states each action may change,
and the WHERE of one batch (the caller's filter, those states, past the cursor)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from jobdeck.states import JobState
from jobdeck.store import listing
from jobdeck.store.dialect import Reader
from jobdeck.store.records import BulkAction, BulkRequest
from jobdeck.store.search import search_either

# The states each action applies to: retry_job's and cancel_job's guards (a running job is
# marked, and its worker stops it); delete takes any job that is not running (its worker would
# write a result for a row that is gone).
ALLOWED: dict[BulkAction, frozenset[JobState]] = {
    "retry": frozenset({JobState.FAILED, JobState.CANCELLED, JobState.RETRYABLE}),
    "cancel": frozenset(
        {
            JobState.WAITING,
            JobState.SCHEDULED,
            JobState.AVAILABLE,
            JobState.RETRYABLE,
            JobState.RUNNING,
        }
    ),
    "delete": frozenset(JobState) - {JobState.RUNNING},
}


def batch_where(db: Reader, request: BulkRequest) -> tuple[str, dict[str, Any]] | None:
    """The WHERE and parameters of one batch; None when the filter leaves no state to act on."""
    allowed = ALLOWED[request.action]
    states = allowed & request.filters.states if request.filters.states else allowed
    if not states:
        return None
    filters = listing.narrow(db, replace(request.filters, states=frozenset(states)))
    filters = search_either(db, filters)
    where, params = listing.filter_where(db, filters, None, request.after_id)
    return where, {**params, "limit": request.limit, "now": db.encode_time(request.now)}
