"""The REST API under /api: the same control layer as the pages, JSON in and out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jobdeck import accounts, control, schedule_control
from jobdeck.errors import (
    ConfigError,
    InvalidTransition,
    JobDeckError,
    JobNotFound,
    SchemaError,
    StoreUnavailable,
    UnknownSchedule,
)
from jobdeck.store.base import AuditFilter
from jobdeck.web.access import AccessDenied, actor_of, require
from jobdeck.web.api_models import (
    AttemptOut,
    AuditPageOut,
    AuditRowOut,
    ErrorBody,
    HealthOut,
    JobDetailOut,
    JobOut,
    JobPageOut,
    RunNowOut,
    ScheduleDetailOut,
    ScheduleOut,
    StatsOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserChange,
    UserIn,
    UserOut,
    WorkerOut,
    WorkersOut,
)
from jobdeck.web.operations import JobAction, operate_on_job
from jobdeck.web.params import Cursor, RowId, deck_of

if TYPE_CHECKING:
    from jobdeck.app import JobDeck

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 503)
}
Status = Literal["all", "success", "failed", "running", "pending", "cancelled"]
Period = Literal["1h", "6h", "24h", "7d", "30d"]

router = APIRouter(responses=ERRORS)


def create_api(deck: JobDeck, parent: FastAPI) -> FastAPI:
    api = FastAPI(
        title="jobdeck API", version="1", docs_url=None, redoc_url=None, openapi_url="/openapi.json"
    )
    api.state.deck = deck
    api.state.authorize = parent.state.authorize
    api.state.policy = parent.state.policy
    api.include_router(router)
    api.add_exception_handler(AccessDenied, _denied)  # type: ignore[arg-type]
    api.add_exception_handler(JobDeckError, _jobdeck_error)  # type: ignore[arg-type]
    api.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    api.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    return api


# -- health and workers --------------------------------------------------------------------------


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def health(request: Request) -> Any:
    """For load balancers: 200 when a worker heartbeat is recent and no schedule is stale."""
    deck = deck_of(request)
    worker = control.worker_health(deck.store, deck.clock, deck.settings.heartbeat_interval)
    try:
        stale = any(s.stale for s in schedule_control.schedule_statuses(deck))
    except JobDeckError:
        stale = True
    if worker.healthy and not stale:
        return HealthOut(status="ok")
    return JSONResponse(HealthOut(status="unhealthy").model_dump(), status_code=503)


@router.get("/workers", response_model=WorkersOut)
async def workers(request: Request) -> WorkersOut:
    await require(request, "view")
    deck = deck_of(request)
    h = control.worker_health(deck.store, deck.clock, deck.settings.heartbeat_interval)
    return WorkersOut(
        healthy=h.healthy,
        reason=h.reason,
        last_heartbeat=h.last_heartbeat,
        workers=[WorkerOut.of(w) for w in h.workers],
    )


# -- jobs ----------------------------------------------------------------------------------------


@router.get("/jobs", response_model=JobPageOut)
async def list_jobs(
    request: Request,
    task: Annotated[str | None, Query(max_length=200)] = None,
    status: Status = "all",
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    before: Cursor = None,
    after: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobPageOut:
    """Jobs newest first, with the task list's filters; page with ``before`` / ``after``."""
    await require(request, "view")
    query = control.JobQuery(
        task_text=task,
        status=None if status == "all" else status,
        date_from=datetime.combine(date_from, time.min, UTC) if date_from else None,
        date_to=datetime.combine(date_to, time.max, UTC) if date_to else None,
    )
    page = control.list_jobs(deck_of(request).store, query, before, limit, after_id=after)
    return JobPageOut(
        jobs=[JobOut.of(j) for j in page.rows],
        next_before=page.next_before_id,
        prev_after=page.prev_after_id,
    )


@router.get("/jobs/{job_id}", response_model=JobDetailOut)
async def job_detail(request: Request, job_id: RowId) -> JobDetailOut:
    await require(request, "view")
    detail = control.job_detail(deck_of(request).store, job_id)
    return JobDetailOut(
        job=JobOut.of(detail.job), attempts=[AttemptOut.of(a) for a in detail.attempts]
    )


@router.post("/jobs/{job_id}/{action}", response_model=JobOut)
async def operate(request: Request, job_id: RowId, action: JobAction) -> JobOut:
    """Retry a failed, retrying or cancelled job, or cancel one that has not started."""
    principal = await require(request, "operate")
    return JobOut.of(operate_on_job(request, principal, action, job_id, via="api"))


@router.get("/stats", response_model=StatsOut)
async def stats(request: Request, period: Period = "24h") -> StatsOut:
    """Stats cards, throughput series and per-task counts for a period (from the rollups)."""
    await require(request, "view")
    deck = deck_of(request)
    return StatsOut.of(control.stats(deck.store, deck.clock, period))


# -- schedules -----------------------------------------------------------------------------------


@router.get("/schedules", response_model=list[ScheduleOut])
async def schedules(request: Request) -> list[ScheduleOut]:
    await require(request, "view")
    return [ScheduleOut.of(s) for s in schedule_control.schedule_statuses(deck_of(request))]


@router.get("/schedules/{name}", response_model=ScheduleDetailOut)
async def schedule_detail(
    request: Request, name: str, runs: Annotated[int, Query(ge=1, le=100)] = 10
) -> ScheduleDetailOut:
    await require(request, "view")
    deck = deck_of(request)
    status = schedule_control.schedule_status(deck, name)
    return ScheduleDetailOut(
        schedule=ScheduleOut.of(status),
        runs=[JobOut.of(j) for j in schedule_control.recent_runs(deck, name, runs)],
    )


@router.post("/schedules/{name}/run", response_model=RunNowOut)
async def run_now(request: Request, name: str) -> RunNowOut:
    principal = await require(request, "trigger")
    deck = deck_of(request)
    result = schedule_control.run_now(deck, name, by=principal.name)
    accounts.audit(
        deck.store,
        deck.clock,
        actor_of(request, principal),
        "run_now",
        f"schedule {name}",
        {"job_id": result.job_id, "created": result.created, "via": "api"},
    )
    message = "queued" if result.created else "already queued or running"
    return RunNowOut(job_id=result.job_id, created=result.created, message=message)


@router.post("/schedules/{name}/pause", response_model=ScheduleOut)
async def pause(request: Request, name: str) -> ScheduleOut:
    return await _set_paused(request, name, True)


@router.post("/schedules/{name}/resume", response_model=ScheduleOut)
async def resume(request: Request, name: str) -> ScheduleOut:
    return await _set_paused(request, name, False)


async def _set_paused(request: Request, name: str, paused: bool) -> ScheduleOut:
    principal = await require(request, "operate")
    deck = deck_of(request)
    schedule_control.set_paused(deck, name, paused)
    accounts.audit(
        deck.store,
        deck.clock,
        actor_of(request, principal),
        "pause" if paused else "resume",
        f"schedule {name}",
        {"via": "api"},
    )
    return ScheduleOut.of(schedule_control.schedule_status(deck, name))


# -- audit ---------------------------------------------------------------------------------------


@router.get("/audit", response_model=AuditPageOut)
async def audit(
    request: Request,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    before_ts: datetime | None = None,
    before_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPageOut:
    """Job executions (``logs``) and, for admins, operator actions; newest first."""
    principal = await require(request, "logs")
    before = (before_ts, before_id) if before_ts and before_id else None
    filters = AuditFilter(
        actor=actor,
        action_type=action,
        date_from=datetime.combine(date_from, time.min, UTC) if date_from else None,
        date_to=datetime.combine(date_to, time.max, UTC) if date_to else None,
        executions=True,
        operator_actions=principal.can("admin"),
        before=before,
    )
    rows = deck_of(request).store.list_audit(filters, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    return AuditPageOut(
        rows=[AuditRowOut.of(r) for r in rows],
        next_before_ts=last.timestamp if last else None,
        next_before_id=last.id if last else None,
    )


# -- users and tokens (admin) --------------------------------------------------------------------


@router.get("/users", response_model=list[UserOut])
async def users(request: Request) -> list[UserOut]:
    await require(request, "admin")
    return [UserOut.of(u) for u in deck_of(request).store.list_users()]


@router.post("/users", response_model=UserOut, status_code=201)
async def add_user(request: Request, body: UserIn) -> UserOut:
    principal = await require(request, "admin")
    deck = deck_of(request)
    user = accounts.add_user(
        deck.store,
        deck.clock,
        request.app.state.policy,
        actor_of(request, principal),
        body.email,
        body.password,
        body.role,
        body.name,
    )
    return UserOut.of(user)


@router.patch("/users/{email}", response_model=UserOut)
async def change_user(request: Request, email: str, body: UserChange) -> UserOut:
    principal = await require(request, "admin")
    deck, actor = deck_of(request), actor_of(request, principal)
    user = None
    if body.role is not None:
        user = accounts.set_role(
            deck.store, deck.clock, request.app.state.policy, actor, email, body.role
        )
    if body.active is not None:
        user = accounts.set_active(deck.store, deck.clock, actor, email, body.active)
    if body.password is not None:
        user = accounts.reset_password(deck.store, deck.clock, actor, email, body.password)
    if user is None:
        raise ConfigError("give at least one of role, active, password")
    return UserOut.of(user)


@router.get("/tokens", response_model=list[TokenOut])
async def tokens(request: Request) -> list[TokenOut]:
    await require(request, "admin")
    return [TokenOut.of(t) for t in deck_of(request).store.list_tokens()]


@router.post("/tokens", response_model=TokenCreatedOut, status_code=201)
async def create_token(request: Request, body: TokenIn) -> TokenCreatedOut:
    """The secret is in this answer only; it is stored as a digest."""
    principal = await require(request, "admin")
    deck = deck_of(request)
    secret, token = accounts.create_token(
        deck.store,
        deck.clock,
        request.app.state.policy,
        actor_of(request, principal),
        body.name,
        body.role,
    )
    return TokenCreatedOut(token=TokenOut.of(token), secret=secret)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(request: Request, token_id: RowId) -> None:
    principal = await require(request, "admin")
    deck = deck_of(request)
    accounts.revoke_token(deck.store, deck.clock, actor_of(request, principal), token_id)


# -- errors: always {"error": {"code", "message"}} ------------------------------------------


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _denied(request: Request, exc: AccessDenied) -> JSONResponse:
    code = "unauthorized" if exc.status == 401 else "forbidden"
    return error_response(exc.status, code, str(exc))


async def _jobdeck_error(request: Request, exc: JobDeckError) -> JSONResponse:
    if isinstance(exc, JobNotFound | UnknownSchedule):
        return error_response(404, "not_found", str(exc))
    if isinstance(exc, InvalidTransition):
        return error_response(409, "conflict", str(exc))
    if isinstance(exc, StoreUnavailable | SchemaError):
        return error_response(503, "unavailable", str(exc))
    return error_response(400, "bad_request", str(exc))


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first.get("loc", []))
    return error_response(422, "invalid", f"{where}: {first.get('msg')}")


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return error_response(exc.status_code, "http_error", str(exc.detail))
