"""The API's jobs: health for load balancers, the worker fleet, the job list and detail, retry
and cancel, and the stats."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, Field, StrictBool

from jobdeck import control
from jobdeck.control import schedules as schedule_control
from jobdeck.control.history import MAX_REASON, job_actions
from jobdeck.errors import JobDeckError
from jobdeck.web.access import Operator, Viewer, actor_of
from jobdeck.web.api.models import (
    ERROR_RESPONSES,
    AttemptOut,
    BulkOut,
    HealthOut,
    JobDetailOut,
    JobOut,
    JobPageOut,
    LogLineOut,
    OperatorActionOut,
    ProgressOut,
    ReasonIn,
    StatsOut,
    StatusCountOut,
    StatusCountsOut,
    WorkersOut,
)
from jobdeck.web.params import (
    NO_NUL,
    Cursor,
    Day,
    Limit,
    RowId,
    TextFilter,
    day_end,
    day_start,
    deck_of,
)

Status = Literal["all", "success", "failed", "running", "pending", "cancelled"]
Period = Literal["1h", "6h", "24h", "7d", "30d"]
ErrorGroupFilter = Annotated[str | None, Query(pattern="^[0-9a-f]{16}$")]

router = APIRouter(responses=ERROR_RESPONSES)


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(request: Request) -> Any:
    """For load balancers: 200 when a worker heartbeat is recent and no schedule is stale."""
    deck = deck_of(request)
    worker = control.worker_health(
        deck.store, deck.clock, deck.settings.heartbeat_interval, deck.settings.expected_workers
    )
    try:
        stale = any(s.stale for s in schedule_control.schedule_statuses(deck))
    except JobDeckError:
        stale = True
    if worker.healthy and not stale:
        return HealthOut(status="ok")
    # Below the expected fleet is a failure for a load balancer too: the operator set a floor.
    degraded = worker.level == control.DEGRADED and not stale
    out = HealthOut(status="degraded" if degraded else "unhealthy")
    return JSONResponse(out.model_dump(), status_code=503)


@router.get("/workers", response_model=WorkersOut)
def workers(request: Request, principal: Viewer) -> WorkersOut:
    deck = deck_of(request)
    h = control.worker_health(
        deck.store, deck.clock, deck.settings.heartbeat_interval, deck.settings.expected_workers
    )
    return WorkersOut.of(h, expected_workers=deck.settings.expected_workers)


SearchText = Annotated[
    str | None,
    Query(
        max_length=control.MAX_SEARCH,
        pattern=NO_NUL,
        description="The search box: a job id, free text (arguments, labels, result summary, "
        "error), args.path:value, label.key:value. Searches the newest jobs of the filter "
        f"({control.SEARCH_WINDOW:,}).",
        examples=["args.user_id:42 timeout"],
    ),
]


def job_query(
    task: TextFilter = None,
    status: Status = "all",
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    q: SearchText = None,
    group: ErrorGroupFilter = None,
) -> control.JobQuery:
    """The task list's filters, as the list, the counts and the bulk actions take them;
    ``group``: the jobs whose latest failure is in that error group (see /errors)."""
    return control.JobQuery(
        task_text=task,
        status=None if status == "all" else status,
        date_from=day_start(date_from) if date_from else None,
        date_to=day_end(date_to) if date_to else None,
        search=q,
        error_group=group,
    )


Filters = Annotated[control.JobQuery, Depends(job_query)]


@router.get("/jobs", response_model=JobPageOut)
def list_jobs(
    request: Request,
    principal: Viewer,
    query: Filters,
    before: Cursor = None,
    after: Cursor = None,
    limit: Limit = 50,
) -> JobPageOut:
    """Jobs newest first, with the task list's filters and search; page with ``before`` /
    ``after``. A search for an existing job's id names it in ``job``."""
    deck = deck_of(request)
    redact = deck.settings.redact
    page = control.list_jobs(deck.store, query, before, limit, after_id=after, redact=redact)
    return JobPageOut(
        jobs=[JobOut.of(j) for j in page.rows],
        next_before=page.next_before_id,
        prev_after=page.prev_after_id,
        job=control.job_of_search(deck.store, query) if query.search else None,
    )


@router.get("/jobs/counts", response_model=StatusCountsOut)
def status_counts(request: Request, principal: Viewer, query: Filters) -> StatusCountsOut:
    """Jobs per Status value under the other filters (the task list's header); each count
    stops at ``cap`` (``more`` is then true)."""
    deck = deck_of(request)
    counts = control.status_counts(deck.store, query, redact=deck.settings.redact)
    return StatusCountsOut(
        counts=[StatusCountOut(status=c.status, count=c.count, more=c.more) for c in counts],  # type: ignore[arg-type]
        cap=control.count_cap(query),
    )


# Ids in a JSON body stop at 2**53: past it a JSON number is not exact (a client's 2**63 - 1 may
# arrive rounded above the store's bigint), and no jobs table reaches it.
MAX_JSON_ID = 2**53


def _a_json_number(value: Any) -> Any:
    """A JSON number only ("5" and true are not ids; 5.0 is, as JSON Schema says)."""
    if isinstance(value, str | bool):
        raise ValueError("an id is a JSON number")
    return value


JobIdNumber = Annotated[int, Ge(1), Le(MAX_JSON_ID), BeforeValidator(_a_json_number)]


class BulkIn(BaseModel):
    """Which jobs: ``ids`` (at most 500), or with none every job the query's filters match."""

    ids: list[JobIdNumber] | None = Field(
        default=None, max_length=500, description="Only these jobs (still filtered)."
    )
    dry_run: StrictBool = Field(
        default=False, description="Count the jobs it would touch; change none."
    )
    reason: str | None = Field(
        default=None,
        max_length=MAX_REASON,
        pattern=NO_NUL,
        description="Why the operator acts; stored with the audit row.",
    )


@router.post("/jobs/bulk/{action}", response_model=BulkOut)
def bulk(
    request: Request,
    action: Literal["retry", "cancel", "delete"],
    principal: Operator,
    query: Filters,
    body: Annotated[BulkIn | None, Body()] = None,
) -> BulkOut:
    """Retry, cancel or delete every job the filters (query parameters, as ``GET /jobs``)
    match, in batches, audited as one action with the filter and the count."""
    deck = deck_of(request)
    body = body or BulkIn()
    if body.ids is not None:
        query = replace(query, ids=tuple(body.ids))
    redact = deck.settings.redact
    if body.dry_run:
        count = control.bulk_count(deck.store, action, query, redact=redact)
    else:
        actor = actor_of(request, principal, via="api")
        count = control.bulk_act(
            deck.store, deck.clock, action, query, actor, reason=body.reason, redact=redact
        )
    return BulkOut(action=action, count=count, dry_run=body.dry_run)


@router.get("/jobs/{job_id}", response_model=JobDetailOut)
def job_detail(request: Request, job_id: RowId, principal: Viewer) -> JobDetailOut:
    """A job, its attempts, the progress and log lines its task reported and, for a caller
    who may read the logs, its operator actions."""
    deck = deck_of(request)
    store = deck.store
    detail = control.job_detail(store, job_id, redact=deck.settings.redact)
    actions = None
    if principal.can("logs"):
        actions = [OperatorActionOut.of(a) for a in job_actions(store, detail.job)]
    return JobDetailOut(
        job=JobOut.of(detail.job),
        attempts=[AttemptOut.of(a) for a in detail.attempts],
        progress=[ProgressOut.of(p) for p in detail.progress],
        log_lines=[LogLineOut.of(ln) for ln in detail.log_lines],
        actions=actions,
        parents=[link.job_id for link in detail.parents],
        children=[link.job_id for link in detail.children],
    )


@router.post("/jobs/{job_id}/{action}", response_model=JobOut)
def operate(
    request: Request,
    job_id: RowId,
    action: control.JobAction,
    principal: Operator,
    body: Annotated[ReasonIn | None, Body()] = None,
) -> JobOut:
    """Retry a failed, retrying or cancelled job, or cancel a pending or running one (a
    running job is stopped by its worker within a heartbeat: the answer still shows it
    running, with ``cancel_requested_at``); the body ``{"reason": "..."}`` is optional."""
    deck, actor = deck_of(request), actor_of(request, principal, via="api")
    reason = body.reason if body else None
    job = control.act_on_job(deck.store, deck.clock, action, job_id, actor, reason=reason)
    return JobOut.of(control.redact_job(job, deck.settings.redact))


@router.get("/stats", response_model=StatsOut)
def stats(request: Request, principal: Viewer, period: Period = "24h") -> StatsOut:
    """Stats cards, throughput series and per-task counts for a period (from the rollups)."""
    deck = deck_of(request)
    return StatsOut.of(control.stats(deck.store, deck.clock, period))
