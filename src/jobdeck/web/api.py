"""The REST API under /api: the same control layer as the pages, JSON in and out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from jobdeck import accounts, control
from jobdeck.control import schedules as schedule_control
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
from jobdeck.web.access import AccessDenied, Principal, actor_of, needs
from jobdeck.web.api_models import (
    AttemptOut,
    AuditPageOut,
    AuditRowOut,
    Email,
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
from jobdeck.web.params import (
    AuditId,
    Cursor,
    Day,
    Instant,
    RowId,
    ScheduleName,
    TextFilter,
    day_end,
    day_start,
    deck_of,
    problem,
)

if TYPE_CHECKING:
    from jobdeck.deck import Deck

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 503)
}
Status = Literal["all", "success", "failed", "running", "pending", "cancelled"]
Period = Literal["1h", "6h", "24h", "7d", "30d"]

Limit = Annotated[int, Query(ge=1, le=200)]
Viewer = Annotated[Principal, Depends(needs("view"))]
Trigger = Annotated[Principal, Depends(needs("trigger"))]
Operator = Annotated[Principal, Depends(needs("operate"))]
Admin = Annotated[Principal, Depends(needs("admin"))]

# Every handler is synchronous: FastAPI runs it in its threadpool, so a slow store call
# never holds the event loop, which, mounted, is the host application's.
router = APIRouter(responses=ERRORS)


def create_api(deck: Deck, parent: FastAPI) -> FastAPI:
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
    return WorkersOut(
        healthy=h.healthy,
        level=h.level,
        reason=h.reason,
        expected_workers=deck.settings.expected_workers,
        last_heartbeat=h.last_heartbeat,
        workers=[WorkerOut.of(w) for w in h.workers],
        lost=[WorkerOut.of(w) for w in h.lost],
    )


# -- jobs ----------------------------------------------------------------------------------------


@router.get("/jobs", response_model=JobPageOut)
def list_jobs(
    request: Request,
    principal: Viewer,
    task: TextFilter = None,
    status: Status = "all",
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    before: Cursor = None,
    after: Cursor = None,
    limit: Limit = 50,
) -> JobPageOut:
    """Jobs newest first, with the task list's filters; page with ``before`` / ``after``."""
    query = control.JobQuery(
        task_text=task,
        status=None if status == "all" else status,
        date_from=day_start(date_from) if date_from else None,
        date_to=day_end(date_to) if date_to else None,
    )
    page = control.list_jobs(deck_of(request).store, query, before, limit, after_id=after)
    return JobPageOut(
        jobs=[JobOut.of(j) for j in page.rows],
        next_before=page.next_before_id,
        prev_after=page.prev_after_id,
    )


@router.get("/jobs/{job_id}", response_model=JobDetailOut)
def job_detail(request: Request, job_id: RowId, principal: Viewer) -> JobDetailOut:
    detail = control.job_detail(deck_of(request).store, job_id)
    return JobDetailOut(
        job=JobOut.of(detail.job), attempts=[AttemptOut.of(a) for a in detail.attempts]
    )


@router.post("/jobs/{job_id}/{action}", response_model=JobOut)
def operate(
    request: Request, job_id: RowId, action: control.JobAction, principal: Operator
) -> JobOut:
    """Retry a failed, retrying or cancelled job, or cancel one that has not started."""
    deck, actor = deck_of(request), actor_of(request, principal, via="api")
    return JobOut.of(control.act_on_job(deck.store, deck.clock, action, job_id, actor))


@router.get("/stats", response_model=StatsOut)
def stats(request: Request, principal: Viewer, period: Period = "24h") -> StatsOut:
    """Stats cards, throughput series and per-task counts for a period (from the rollups)."""
    deck = deck_of(request)
    return StatsOut.of(control.stats(deck.store, deck.clock, period))


# -- schedules -----------------------------------------------------------------------------------


@router.get("/schedules", response_model=list[ScheduleOut])
def schedules(request: Request, principal: Viewer) -> list[ScheduleOut]:
    return [ScheduleOut.of(s) for s in schedule_control.schedule_statuses(deck_of(request))]


@router.get("/schedules/{name:path}", response_model=ScheduleDetailOut)
def schedule_detail(
    request: Request,
    name: ScheduleName,
    principal: Viewer,
    runs: Annotated[int, Query(ge=1, le=100)] = 10,
) -> ScheduleDetailOut:
    """A schedule and its last runs. A name with a slash is sent as %2F."""
    deck = deck_of(request)
    status = schedule_control.schedule_status(deck, name)
    return ScheduleDetailOut(
        schedule=ScheduleOut.of(status),
        runs=[JobOut.of(j) for j in schedule_control.recent_runs(deck, name, runs)],
    )


@router.post("/schedules/{name:path}/run", response_model=RunNowOut)
def run_now(request: Request, name: ScheduleName, principal: Trigger) -> RunNowOut:
    result = schedule_control.run_now(
        deck_of(request), name, actor_of(request, principal, via="api")
    )
    message = "queued" if result.created else "already queued or running"
    return RunNowOut(job_id=result.job_id, created=result.created, message=message)


@router.post("/schedules/{name:path}/pause", response_model=ScheduleOut)
def pause(request: Request, name: ScheduleName, principal: Operator) -> ScheduleOut:
    return _set_paused(request, principal, name, True)


@router.post("/schedules/{name:path}/resume", response_model=ScheduleOut)
def resume(request: Request, name: ScheduleName, principal: Operator) -> ScheduleOut:
    return _set_paused(request, principal, name, False)


def _set_paused(request: Request, principal: Principal, name: str, paused: bool) -> ScheduleOut:
    deck = deck_of(request)
    schedule_control.set_paused(deck, name, paused, actor_of(request, principal, via="api"))
    return ScheduleOut.of(schedule_control.schedule_status(deck, name))


# -- audit ---------------------------------------------------------------------------------------


@router.get("/audit", response_model=AuditPageOut)
def audit(
    request: Request,
    principal: Annotated[Principal, Depends(needs("logs"))],
    actor: TextFilter = None,
    action: TextFilter = None,
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    before_ts: Annotated[Instant | None, Query()] = None,
    before_id: Annotated[AuditId | None, Query()] = None,
    limit: Limit = 50,
) -> AuditPageOut:
    """Job executions (``logs``) and, for admins, operator actions; newest first. Page with
    the ``next_before_ts`` and ``next_before_id`` of the previous answer."""
    before = (before_ts, before_id) if before_ts and before_id else None
    filters = AuditFilter(
        actor=actor,
        action_type=action,
        date_from=day_start(date_from) if date_from else None,
        date_to=day_end(date_to) if date_to else None,
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
def users(request: Request, principal: Admin) -> list[UserOut]:
    return [UserOut.of(u) for u in deck_of(request).store.list_users()]


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(request: Request, body: UserIn, principal: Admin) -> UserOut:
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
def change_user(
    request: Request, email: Annotated[Email, Path()], body: UserChange, principal: Admin
) -> UserOut:
    deck, actor = deck_of(request), actor_of(request, principal)
    _known_user(deck, email)
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
def tokens(request: Request, principal: Admin) -> list[TokenOut]:
    return [TokenOut.of(t) for t in deck_of(request).store.list_tokens()]


@router.post("/tokens", response_model=TokenCreatedOut, status_code=201)
def create_token(request: Request, body: TokenIn, principal: Admin) -> TokenCreatedOut:
    """The secret is in this answer only; it is stored as a digest."""
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
def revoke_token(request: Request, token_id: RowId, principal: Admin) -> None:
    deck = deck_of(request)
    token = next((t for t in deck.store.list_tokens() if t.id == token_id), None)
    if token is None:
        raise HTTPException(404, f"no token with id {token_id}")
    if token.revoked_at is not None:
        raise InvalidTransition(f"token {token_id} is already revoked")
    accounts.revoke_token(deck.store, deck.clock, actor_of(request, principal), token_id)


def _known_user(deck: Deck, email: str) -> None:
    """A 404 for an address no user has (accounts' own refusal is a 400, as for a form)."""
    try:
        user = deck.store.find_user(accounts.normalise_email(email))
    except ConfigError:  # not even an email address
        user = None
    if user is None:
        raise HTTPException(404, f"no user with email {email[:100]}")


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
    return error_response(422, "invalid", problem(exc))


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """The router's own answers (no such path, wrong method) in the API's shape, keeping
    their headers: a 405 says in ``Allow`` which methods the path takes."""
    response = error_response(
        exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail)
    )
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path: Starlette's own ``Allow`` names only the
    first route whose path matched (GET /users, not also POST /users)."""
    methods: set[str] = set()
    for route in router.routes:
        match, child = route.matches({**request.scope, "method": "__none__"})
        # A {name:path} that took a slash is not what the schema means by the path: GET
        # /schedules/{name} is not a method of /schedules/x/run, though it would read "x/run".
        spans = any("/" in str(value) for value in child.get("path_params", {}).values())
        if match != Match.NONE and not spans:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)
