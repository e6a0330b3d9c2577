"""The host application's sign-in: the demo accounts, checked by jobdeck's ``accounts``
(argon2, throttling, server-side sessions) under the host's own cookie, and the
``authorize`` that hands the signed-in person to the mounted dashboard with their role.

Every request gets ``request.state.user`` (a ``HostUser`` or None) from ``CurrentUser``, the
way the README's mount example expects a host to know who is signed in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from jobdeck import accounts
from jobdeck.demo.app import deck
from jobdeck.web.access import Principal, check_same_origin, client_ip

SESSION_COOKIE = "demo_session"
LOGIN_CSRF_COOKIE = "demo_login_csrf"
MAX_FORM_BODY = 64 * 1024  # the largest host form (feedback) is a few kB


def policy() -> accounts.AccessPolicy:
    settings = deck.settings
    return accounts.AccessPolicy.from_settings(
        settings.role_permissions,
        session_idle=settings.session_idle,
        session_absolute=settings.session_absolute,
    )


@dataclass(frozen=True)
class HostUser:
    """The signed-in person, as the host's pages see them."""

    id: int
    email: str
    name: str
    role: str
    permissions: frozenset[str]
    csrf_token: str  # the session's; the host's forms and the mounted dashboard both use it

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def dev_mode(self) -> bool:
        """Dev Mode is for the roles that may see background jobs: Admin and Partner."""
        return self.can("view")

    @property
    def initials(self) -> str:
        words = [w for w in self.name.replace(".", " ").split() if w]
        return "".join(w[0] for w in words[:2]).upper() or "?"


class SignInRequired(Exception):
    """A host page asked for a signed-in person and there was none."""


class NotAllowed(Exception):
    """Signed in, but the role lacks what the page needs."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def user_of(request: Request) -> HostUser | None:
    user: HostUser | None = getattr(request.state, "user", None)
    return user


def signed_in(request: Request) -> HostUser:
    user = user_of(request)
    if user is None:
        raise SignInRequired
    return user


def needs(permission: str, message: str) -> Any:
    """A dependency: the signed-in person, if their role has ``permission``."""

    def dependency(user: Annotated[HostUser, Depends(signed_in)]) -> HostUser:
        if not user.can(permission):
            raise NotAllowed(message)
        return user

    return dependency


def authorize(request: Request) -> Principal | None:
    """For ``deck.asgi(authorize=...)``: the host's user with their jobdeck role. The session's
    CSRF token goes along, so one token guards the host's forms and the dashboard's."""
    user = user_of(request)
    if user is None:
        return None
    return Principal(str(user.id), user.email, user.role, user.permissions, "host", user.csrf_token)


def _lookup(cookie: str) -> HostUser | None:
    found = accounts.session_user(deck.store, deck.clock, policy(), cookie)
    if found is None:
        return None
    session, user = found
    return HostUser(
        user.id,
        user.email,
        user.name,
        user.role,
        policy().permissions(user.role),
        session.csrf_token,
    )


def _is_static(path: str) -> bool:
    return path.startswith("/assets/") or "/static/" in path


class CurrentUser:
    """ASGI middleware: ``scope["state"]["user"]`` for every request but static files (the
    mounted dashboard shares the scope's state, so its ``authorize`` reads the same user)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.setdefault("state", {})
            cookie = Request(scope).cookies.get(SESSION_COOKIE)
            user = None
            if cookie and not _is_static(scope["path"]):
                # A session lookup is a store call: never on the event loop.
                user = await run_in_threadpool(_lookup, cookie)
            state["user"] = user
        await self.app(scope, receive, send)


class SignInFirst:
    """Wraps the mounted dashboard: a signed-out person opening one of its pages goes to the
    host's sign-in and comes back (its own 401 page has no form: the host owns sign-in). Its
    REST API, htmx requests and static files answer as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._page_for_nobody(scope):
            path = scope["path"]
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            await RedirectResponse(f"/login?next={quote(target)}", status_code=303)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _page_for_nobody(scope: Scope) -> bool:
        if scope["method"] != "GET" or scope.get("state", {}).get("user") is not None:
            return False
        inner = scope["path"][len(scope.get("root_path", "")) :]
        headers = dict(scope.get("headers", []))
        return not (
            inner.startswith(("/api/", "/static/")) or headers.get(b"hx-request") == b"true"
        )


# -- the sign-in pages ---------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _form(request, email="", error=None, status=200)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    check_same_origin(request)
    form = await small_form(request)
    email, password = form.get("email", ""), form.get("password", "")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not accounts.csrf_matches(expected, form.get("csrf_token", "")):
        error = "The sign-in form expired; please try again."
        return await run_in_threadpool(_form, request, email=email, error=error, status=403)
    try:
        # argon2 takes tens of milliseconds by design: never on the event loop.
        cookie, _session, _user = await run_in_threadpool(
            accounts.log_in,
            deck.store,
            deck.clock,
            policy(),
            email,
            password,
            client_ip(request),
            request.headers.get("user-agent"),
        )
    except accounts.LoginRefused as exc:
        status = 429 if exc.retry_after else 401
        return await run_in_threadpool(_form, request, email=email, error=str(exc), status=status)
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a new session at every sign-in: a planted cookie is never promoted
        await run_in_threadpool(deck.store.delete_session, accounts.digest(old))
    response = RedirectResponse(safe_next(form.get("next", ""), "/"), status_code=303)
    max_age = int(policy().session_absolute.total_seconds())
    _set_cookie(request, response, SESSION_COOKIE, cookie, max_age)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    user = user_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if user is not None and cookie:
        await check_form(request, user)
        actor = accounts.Actor(user.email, user.role, client_ip(request), "demo")
        await run_in_threadpool(accounts.log_out, deck.store, deck.clock, cookie, actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _form(request: Request, *, email: str, error: str | None, status: int) -> Response:
    from jobdeck.demo.views import render

    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status,
        nav="login",
        email=email[: accounts.MAX_EMAIL_LENGTH],
        error=error,
        login_csrf=token,
        next=request.query_params.get("next", "")[:2000],
    )
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def safe_next(target: str, fallback: str) -> str:
    """Only paths on this site: never an open redirect to another one."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


async def small_form(request: Request) -> dict[str, str]:
    """The urlencoded body of a host form, read no further than MAX_FORM_BODY."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BODY:
            raise NotAllowed("That form is too large.")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


async def check_form(request: Request, user: HostUser, form: dict[str, str] | None = None) -> None:
    """A state change must come from this site's own page, with the session's token."""
    check_same_origin(request)
    fields = form if form is not None else await small_form(request)
    if not accounts.csrf_matches(user.csrf_token, fields.get("csrf_token")):
        raise NotAllowed("This form is missing its security token; reload the page.")
