"""The API's audit log (``logs``; operator actions for admins) and user and token admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.exceptions import HTTPException

from jobdeck import accounts
from jobdeck.errors import ConfigError, InvalidTransition
from jobdeck.store.base import AuditFilter
from jobdeck.web.access import Admin, LogReader
from jobdeck.web.account_actions import AccountActions
from jobdeck.web.api.models import (
    ERROR_RESPONSES,
    AuditPageOut,
    AuditRowOut,
    Email,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserChange,
    UserIn,
    UserOut,
)
from jobdeck.web.params import (
    AuditId,
    Day,
    Instant,
    Limit,
    RowId,
    TextFilter,
    day_end,
    day_start,
    deck_of,
)

if TYPE_CHECKING:
    pass

router = APIRouter(responses=ERROR_RESPONSES)


@router.get("/audit", response_model=AuditPageOut)
def audit(
    request: Request,
    principal: LogReader,
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


@router.get("/users", response_model=list[UserOut])
def users(request: Request, principal: Admin) -> list[UserOut]:
    return [UserOut.of(u) for u in AccountActions.of(request, principal).users()]


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(request: Request, body: UserIn, principal: Admin) -> UserOut:
    actions = AccountActions.of(request, principal)
    return UserOut.of(actions.add_user(body.email, body.password, body.role, body.name))


@router.patch("/users/{email}", response_model=UserOut)
def change_user(
    request: Request, email: Annotated[Email, Path()], body: UserChange, principal: Admin
) -> UserOut:
    actions = AccountActions.of(request, principal)
    _known_user(actions, email)
    user = None
    if body.role is not None:
        user = actions.set_role(email, body.role)
    if body.active is not None:
        user = actions.set_active(email, body.active)
    if body.password is not None:
        user = actions.reset_password(email, body.password)
    if user is None:
        raise ConfigError("give at least one of role, active, password")
    return UserOut.of(user)


@router.get("/tokens", response_model=list[TokenOut])
def tokens(request: Request, principal: Admin) -> list[TokenOut]:
    return [TokenOut.of(t) for t in AccountActions.of(request, principal).tokens()]


@router.post("/tokens", response_model=TokenCreatedOut, status_code=201)
def create_token(request: Request, body: TokenIn, principal: Admin) -> TokenCreatedOut:
    """The secret is in this answer only; it is stored as a digest."""
    secret, token = AccountActions.of(request, principal).create_token(body.name, body.role)
    return TokenCreatedOut(token=TokenOut.of(token), secret=secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(request: Request, token_id: RowId, principal: Admin) -> None:
    actions = AccountActions.of(request, principal)
    token = next((t for t in actions.tokens() if t.id == token_id), None)
    if token is None:
        raise HTTPException(404, f"no token with id {token_id}")
    if token.revoked_at is not None:
        raise InvalidTransition(f"token {token_id} is already revoked")
    actions.revoke_token(token_id)


def _known_user(actions: AccountActions, email: str) -> None:
    """A 404 for an address no user has (accounts' own refusal is a 400, as for a form)."""
    try:
        user = actions.store.find_user(accounts.normalise_email(email))
    except ConfigError:  # not even an email address
        user = None
    if user is None:
        raise HTTPException(404, f"no user with email {email[:100]}")
