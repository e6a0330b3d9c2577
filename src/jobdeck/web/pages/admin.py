"""The audit log page (logs permission; operator actions for admins) and user/token admin."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck import accounts
from jobdeck.errors import ConfigError
from jobdeck.store.base import AuditFilter, AuditRow
from jobdeck.web.access import Admin, LogReader, Principal, actor_of
from jobdeck.web.errors import public_error
from jobdeck.web.params import (
    FormFields,
    day_end,
    day_start,
    deck_of,
    or_none,
    parse_audit_id,
    parse_day,
    parse_id,
    parse_instant,
    parse_text,
)
from jobdeck.web.rendering import PageRoute, render

if TYPE_CHECKING:
    from jobdeck.deck import Deck

router = APIRouter(include_in_schema=False, route_class=PageRoute)
AUDIT_PAGE = 50


def audit_filter(principal: Principal, params: dict[str, str]) -> tuple[AuditFilter, list[str]]:
    """Filters from query parameters, leniently (a bad one is dropped with a notice), each
    parsed by its type in ``params``; what a principal may see decides the row kinds."""
    errors = []
    texts: dict[str, str | None] = {"actor": None, "action": None}
    for key in texts:
        value = params.get(key, "")
        if value and or_none(parse_text, value) is None:
            errors.append(f"Ignored the {key} filter: it is too long or holds a NUL character.")
        elif value:
            texts[key] = value
    dates: dict[str, datetime | None] = {"from": None, "to": None}
    for key in dates:
        value = params.get(key, "")
        day = or_none(parse_day, value) if value else None
        if value and day is None:
            errors.append(f"{key} must be a date like 2025-01-31; ignored.")
        elif day is not None:
            dates[key] = day_start(day) if key == "from" else day_end(day)
    before = None
    if params.get("before_ts") and params.get("before_id"):
        moment = or_none(parse_instant, params["before_ts"])
        row_id = or_none(parse_audit_id, params["before_id"])
        if moment is None or row_id is None:
            errors.append("The page cursor is invalid; showing the newest rows.")
        else:
            before = (moment, row_id)
    return AuditFilter(
        actor=texts["actor"],
        action_type=texts["action"],
        date_from=dates["from"],
        date_to=dates["to"],
        executions=principal.can("logs"),
        operator_actions=principal.can("admin"),
        before=before,
    ), errors


def audit_page_rows(deck: Deck, filters: AuditFilter) -> tuple[list[AuditRow], bool]:
    rows = deck.store.list_audit(filters, AUDIT_PAGE + 1)
    return rows[:AUDIT_PAGE], len(rows) > AUDIT_PAGE


# Synchronous handlers: FastAPI runs them in its threadpool, so the store and the templates
# never hold the event loop; forms are read by the FormFields dependency, on the loop.


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, principal: LogReader) -> Response:
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
def users_page(request: Request, principal: Admin) -> Response:
    return _users(request, None, None)


@router.post("/admin/users", response_class=HTMLResponse)
def users_action(request: Request, principal: Admin, form: FormFields) -> Response:
    deck = deck_of(request)
    policy = request.app.state.policy
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
            raise ConfigError(f"unknown action {action[:40]!r}")
    except ConfigError as exc:
        refusal = public_error(exc)
        return _users(request, None, refusal.message, status=refusal.status)
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
def tokens_page(request: Request, principal: Admin) -> Response:
    return _tokens(request, None, None, None)


@router.post("/admin/tokens", response_class=HTMLResponse)
def tokens_action(request: Request, principal: Admin, form: FormFields) -> Response:
    deck = deck_of(request)
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
        token_id = or_none(parse_id, form.get("id", ""))
        if form.get("action") == "revoke" and token_id is not None:
            accounts.revoke_token(deck.store, deck.clock, actor, token_id)
            return _tokens(request, None, "Token revoked.", None)
        raise ConfigError("unknown token action")
    except ConfigError as exc:
        refusal = public_error(exc)
        return _tokens(request, None, None, refusal.message, status=refusal.status)


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
