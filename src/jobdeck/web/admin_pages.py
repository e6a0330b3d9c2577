"""The audit log page (logs permission; operator actions for admins) and user/token admin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck import accounts
from jobdeck.errors import ConfigError
from jobdeck.store.base import AuditFilter, AuditRow
from jobdeck.web.access import Principal, actor_of, require
from jobdeck.web.app import render
from jobdeck.web.params import deck_of

if TYPE_CHECKING:
    from jobdeck.app import JobDeck

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50


def audit_filter(principal: Principal, params: dict[str, str]) -> tuple[AuditFilter, list[str]]:
    """Filters from query parameters; what a principal may see decides the row kinds."""
    errors = []
    dates: dict[str, datetime | None] = {"from": None, "to": None}
    for key in dates:
        value = params.get(key, "")
        if not value:
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            errors.append(f"{key} must be a date like 2025-01-31; ignored.")
            continue
        dates[key] = datetime.combine(day, time.min if key == "from" else time.max, UTC)
    before = None
    if params.get("before_ts") and params.get("before_id"):
        try:
            before = (datetime.fromisoformat(params["before_ts"]), params["before_id"])
        except ValueError:
            errors.append("The page cursor is invalid; showing the newest rows.")
    return AuditFilter(
        actor=params.get("actor") or None,
        action_type=params.get("action") or None,
        date_from=dates["from"],
        date_to=dates["to"],
        executions=principal.can("logs"),
        operator_actions=principal.can("admin"),
        before=before,
    ), errors


def audit_page_rows(deck: JobDeck, filters: AuditFilter) -> tuple[list[AuditRow], bool]:
    rows = deck.store.list_audit(filters, AUDIT_PAGE + 1)
    return rows[:AUDIT_PAGE], len(rows) > AUDIT_PAGE


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request) -> Response:
    principal = await require(request, "logs")
    deck = deck_of(request)
    params = dict(request.query_params)
    filters, errors = audit_filter(principal, params)
    rows, more = audit_page_rows(deck, filters)
    next_url = None
    if more and rows:
        kept = {k: v for k, v in params.items() if k in ("actor", "action", "from", "to") and v}
        kept.update(before_ts=rows[-1].timestamp.isoformat(), before_id=rows[-1].id)
        next_url = "audit?" + urlencode(kept)
    return render(
        request,
        "audit.html",
        nav="audit",
        rows=rows,
        params=params,
        errors=errors,
        next_url=next_url,
        show_operator=principal.can("admin"),
    )


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(request: Request) -> Response:
    await require(request, "admin")
    return _users(request, None, None)


@router.post("/admin/users", response_class=HTMLResponse)
async def users_action(request: Request) -> Response:
    principal = await require(request, "admin")
    deck = deck_of(request)
    policy = request.app.state.policy
    form = {k: str(v) for k, v in (await request.form()).items()}
    actor = actor_of(request, principal)
    action, email = form.get("action", ""), form.get("email", "")
    try:
        if action == "add":
            accounts.add_user(
                deck.store,
                deck.clock,
                policy,
                actor,
                email,
                form.get("password", ""),
                form.get("role", ""),
                form.get("name"),
            )
            message = f"User {email} added."
        elif action == "set_role":
            accounts.set_role(deck.store, deck.clock, policy, actor, email, form.get("role", ""))
            message = f"{email} is now {form.get('role')}."
        elif action in ("disable", "enable"):
            accounts.set_active(deck.store, deck.clock, actor, email, action == "enable")
            message = f"{email} {action}d."
        elif action == "reset_password":
            accounts.reset_password(deck.store, deck.clock, actor, email, form.get("password", ""))
            message = f"Password of {email} reset."
        else:
            raise ConfigError(f"unknown action {action!r}")
    except ConfigError as exc:
        return _users(request, None, str(exc), status=400)
    return _users(request, message, None)


def _users(request: Request, message: str | None, error: str | None, status: int = 200) -> Response:
    deck = deck_of(request)
    return render(
        request,
        "users.html",
        status_code=status,
        nav="users",
        users=deck.store.list_users(),
        roles=list(request.app.state.policy.roles),
        message=message,
        error=error,
    )


@router.get("/admin/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request) -> Response:
    await require(request, "admin")
    return _tokens(request, None, None, None)


@router.post("/admin/tokens", response_class=HTMLResponse)
async def tokens_action(request: Request) -> Response:
    principal = await require(request, "admin")
    deck = deck_of(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    actor = actor_of(request, principal)
    try:
        if form.get("action") == "create":
            secret, token = accounts.create_token(
                deck.store,
                deck.clock,
                request.app.state.policy,
                actor,
                form.get("name", ""),
                form.get("role", ""),
            )
            return _tokens(request, secret, f"Token {token.name} created.", None)
        if form.get("action") == "revoke" and form.get("id", "").isdigit():
            accounts.revoke_token(deck.store, deck.clock, actor, int(form["id"]))
            return _tokens(request, None, "Token revoked.", None)
        raise ConfigError("unknown token action")
    except ConfigError as exc:
        return _tokens(request, None, None, str(exc), status=400)


def _tokens(
    request: Request, secret: str | None, message: str | None, error: str | None, status: int = 200
) -> Response:
    deck = deck_of(request)
    return render(
        request,
        "tokens.html",
        status_code=status,
        nav="tokens",
        tokens=deck.store.list_tokens(),
        roles=list(request.app.state.policy.roles),
        secret=secret,
        message=message,
        error=error,
    )
