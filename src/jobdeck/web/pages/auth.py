"""Sign in and sign out with jobdeck's own users (not used when the host app authorizes)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from jobdeck import accounts
from jobdeck.web.access import (
    SESSION_COOKIE,
    actor_of,
    check_csrf,
    check_same_origin,
    client_ip,
    identify,
)
from jobdeck.web.errors import public_error
from jobdeck.web.params import deck_of
from jobdeck.web.rendering import render, set_cookie

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "jobdeck_login_csrf"
# The sign-in form is an email, a password, a token and a path: a few kB at most.
MAX_LOGIN_BODY = 8192


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    if request.app.state.authorize is not None:
        return RedirectResponse(_root(request) + "/jobs", status_code=303)
    return await _form(request, email="", error=None, status=200)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    check_same_origin(request)
    form = await _small_form(request)
    if form is None:
        return await _form(request, email="", error=accounts.TOO_LONG, status=413)
    email, password = form.get("email", ""), form.get("password", "")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not accounts.csrf_matches(expected, form.get("csrf_token", "")):
        return await _form(
            request, email=email, status=403, error="The sign-in form expired; please try again."
        )
    deck = deck_of(request)
    try:
        # argon2 takes tens of milliseconds by design: never on the event loop.
        cookie, _session, user = await run_in_threadpool(
            accounts.log_in,
            deck.store,
            deck.clock,
            request.app.state.policy,
            email,
            password,
            client_ip(request),
            request.headers.get("user-agent"),
        )
    except accounts.LoginRefused as exc:
        refusal = public_error(exc)  # 401, or 429 when throttled, 400 when too long to check
        response = await _form(request, email=email, error=refusal.message, status=refusal.status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a new session id at every login: a planted cookie is never promoted
        await run_in_threadpool(deck.store.delete_session, accounts.digest(old))
    landing = _landing(request, request.app.state.policy.permissions(user.role))
    response = RedirectResponse(_safe_next(request, form.get("next", ""), landing), status_code=303)
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
        actor = actor_of(request, principal)
        await run_in_threadpool(accounts.log_out, deck.store, deck.clock, cookie, actor)
    response.delete_cookie(SESSION_COOKIE, path=_root(request) + "/")
    return response


async def _small_form(request: Request) -> dict[str, str] | None:
    """The urlencoded sign-in form, or None when the body is over MAX_LOGIN_BODY: read no
    further than that, so a megabyte email is refused before it is parsed or stored."""
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > MAX_LOGIN_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            return None
    try:
        text = body.decode("utf-8", "replace")
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=20))
    except ValueError:  # more fields than any sign-in form has
        return None


async def _form(request: Request, *, email: str, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    deck = deck_of(request)
    no_users = not await run_in_threadpool(deck.store.list_users)
    response = render(
        request,
        "login.html",
        status_code=status,
        email=email[: accounts.MAX_EMAIL_LENGTH],
        error=error,
        login_csrf=token,
        next=request.query_params.get("next", "")[:2000],
        no_users=no_users,
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
