"""Sign in and sign out with jobdeck's own users (not used when the host app authorizes)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jobdeck import accounts
from jobdeck.web.access import SESSION_COOKIE, actor_of, check_csrf, client_ip, identify
from jobdeck.web.app import render, set_cookie
from jobdeck.web.params import deck_of

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "jobdeck_login_csrf"


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    if request.app.state.authorize is not None:
        return RedirectResponse(_root(request) + "/jobs", status_code=303)
    return _form(request, email="", error=None, status=200)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not accounts.csrf_matches(expected, str(form.get("csrf_token", ""))):
        return _form(
            request, email=email, status=403, error="The sign-in form expired; please try again."
        )
    deck = deck_of(request)
    try:
        cookie, _session, user = accounts.log_in(
            deck.store,
            deck.clock,
            request.app.state.policy,
            email,
            password,
            client_ip(request),
            request.headers.get("user-agent"),
        )
    except accounts.LoginRefused as exc:
        status = 429 if exc.retry_after else 401
        response = _form(request, email=email, error=str(exc), status=status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a new session id at every login: a planted cookie is never promoted
        deck.store.delete_session(accounts.digest(old))
    landing = _landing(request, request.app.state.policy.permissions(user.role))
    response = RedirectResponse(
        _safe_next(request, str(form.get("next", "")), landing), status_code=303
    )
    max_age = int(request.app.state.policy.session_absolute.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, cookie, max_age=max_age)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=_root(request) + "/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    principal = await identify(request)
    response = RedirectResponse(_root(request) + "/login", status_code=303)
    cookie = request.cookies.get(SESSION_COOKIE)
    if principal is not None and principal.via == "session" and cookie:
        await check_csrf(request, principal)
        deck = deck_of(request)
        accounts.log_out(deck.store, deck.clock, cookie, actor_of(request, principal))
    response.delete_cookie(SESSION_COOKIE, path=_root(request) + "/")
    return response


def _form(request: Request, *, email: str, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    deck = deck_of(request)
    response = render(
        request,
        "login.html",
        status_code=status,
        email=email,
        error=error,
        login_csrf=token,
        next=request.query_params.get("next", ""),
        no_users=not deck.store.list_users(),
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


def _safe_next(request: Request, target: str, landing: str) -> str:
    """Only paths inside the dashboard: never an open redirect to another site."""
    root = _root(request)
    if target.startswith(root + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{root}/{landing}"


def _landing(request: Request, permissions: frozenset[str]) -> str:
    """Jobs for those who may view it; else the first page of theirs (attorneys: search)."""
    if "view" in permissions:
        return "jobs"
    for href, _label, permission in request.app.state.extra_nav:
        if permission in permissions:
            return str(href)
    return "jobs"


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")
