"""The audit log page (logs permission; operator actions for admins) and user/token admin."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck.errors import ConfigError
from jobdeck.store.base import AuditFilter, AuditRow
from jobdeck.web.access import Admin, LogReader, Principal
from jobdeck.web.account_actions import AccountActions
from jobdeck.web.errors import PublicError, public_error
from jobdeck.web.live import live
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
    """The audit log; with ``live=1`` its rows alone, for the newest page's poll."""
    deck = deck_of(request)
    params = dict(request.query_params)
    filters, errors = audit_filter(principal, params)
    rows, more = audit_page_rows(deck, filters)
    kept = {k: v for k, v in params.items() if k in ("actor", "action", "from", "to") and v}
    next_url = None
    if more and rows:
        cursor = {"before_ts": rows[-1].timestamp.isoformat(), "before_id": rows[-1].id}
        next_url = "audit?" + urlencode({**kept, **cursor})
    # Only the newest page gains rows; a page behind a cursor stays as it was read.
    live_url = None if filters.before else "audit?" + urlencode({**kept, "live": "1"})
    template = "_audit_rows.html" if params.get("live") == "1" else "audit.html"
    page = render(
        request,
        template,
        nav="audit",
        rows=rows,
        params=params,
        errors=errors,
        next_url=next_url,
        live_url=live_url,
        show_operator=principal.can("admin"),
    )
    return live(request, page)


@router.get("/admin/users", response_class=HTMLResponse)
@router.get("/admin/tokens", response_class=HTMLResponse)
def admin_page(request: Request, principal: Admin) -> Response:
    """The users or the tokens page, by the last part of the path."""
    page = request.url.path.rsplit("/", 1)[-1]
    return _admin_page(request, page, AccountActions.of(request, principal))


@router.post("/admin/users", response_class=HTMLResponse)
def users_action(request: Request, principal: Admin, form: FormFields) -> Response:
    actions = AccountActions.of(request, principal)
    action, email = form.get("action", ""), form.get("email", "")
    password, role = form.get("password", ""), form.get("role", "")
    try:
        if action == "add":
            actions.add_user(email, password, role, form.get("name"))
            message = f"User {email} added."
        elif action == "set_role":
            actions.set_role(email, role)
            message = f"{email} is now {role}."
        elif action in ("disable", "enable"):
            actions.set_active(email, action == "enable")
            message = f"{email} {action}d."
        elif action == "reset_password":
            actions.reset_password(email, password)
            message = f"Password of {email} reset."
        else:
            raise ConfigError(f"unknown action {action[:40]!r}")
    except ConfigError as exc:
        return _admin_page(request, "users", actions, refusal=public_error(exc))
    return _admin_page(request, "users", actions, message=message)


@router.post("/admin/tokens", response_class=HTMLResponse)
def tokens_action(request: Request, principal: Admin, form: FormFields) -> Response:
    actions = AccountActions.of(request, principal)
    try:
        if form.get("action") == "create":
            secret, token = actions.create_token(form.get("name", ""), form.get("role", ""))
            message = f"Token {token.name} created."
            return _admin_page(request, "tokens", actions, message=message, secret=secret)
        token_id = or_none(parse_id, form.get("id", ""))
        if form.get("action") == "revoke" and token_id is not None:
            actions.revoke_token(token_id)
            return _admin_page(request, "tokens", actions, message="Token revoked.")
        raise ConfigError("unknown token action")
    except ConfigError as exc:
        return _admin_page(request, "tokens", actions, refusal=public_error(exc))


def _admin_page(
    request: Request,
    page: str,
    actions: AccountActions,
    *,
    message: str | None = None,
    refusal: PublicError | None = None,
    secret: str | None = None,
) -> Response:
    """The users or the tokens page, with what was done or why it was refused (at the refusal's
    status, so a failed form is not a 200)."""
    # The page's table, by the name its template reads.
    listing: dict[str, Any] = (
        {"users": actions.users()} if page == "users" else {"tokens": actions.tokens()}
    )
    return render(
        request,
        f"{page}.html",
        status_code=refusal.status if refusal else 200,
        nav=page,
        roles=list(actions.policy.roles),
        message=message,
        error=refusal.message if refusal else None,
        secret=secret,
        **listing,
    )
