"""Who is asking, and what they may do: the one authorization check every page and API route
goes through, with CSRF checked on every state-changing request made with a cookie."""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from jobdeck import accounts
from jobdeck.accounts import DEFAULT_ROLES, PERMISSIONS, AccessPolicy
from jobdeck.web.params import deck_of, read_form
from jobdeck.web.security import origin, origin_of

SESSION_COOKIE = "jobdeck_session"
CSRF_COOKIE = "jobdeck_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

__all__ = ["DEFAULT_ROLES", "PERMISSIONS", "AccessDenied", "Principal", "local_operator", "require"]


@dataclass(frozen=True)
class Principal:
    """The person (or token) behind a request."""

    id: str
    name: str
    role: str
    permissions: frozenset[str]
    via: str = "host"  # session, token, host (your app's login) or local
    csrf_token: str | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @classmethod
    def with_role(
        cls, user_id: str, name: str, role: str, policy: AccessPolicy | None = None
    ) -> Principal:
        """For ``deck.asgi(authorize=...)``: map your user to one of jobdeck's roles."""
        permissions = (policy or AccessPolicy()).permissions(role)
        return cls(str(user_id), name, role, permissions, "host")


Authorize = Callable[[Request], "Awaitable[Principal | None] | Principal | None"]


def local_operator(request: Request) -> Principal:
    """No login: whoever reaches the dashboard operates it. Only for localhost use."""
    return Principal("local", "local operator", "admin", DEFAULT_ROLES["admin"], "local")


class AccessDenied(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def identify(request: Request) -> Principal | None:
    """The principal of a request, resolved once and kept on ``request.state``."""
    if hasattr(request.state, "principal"):
        principal: Principal | None = request.state.principal
        return principal
    authorize: Authorize | None = request.app.state.authorize
    # Looking a session up and a host's synchronous authorize may block: never on the loop.
    if authorize is None:
        principal = await run_in_threadpool(_builtin_principal, request)
    elif inspect.iscoroutinefunction(authorize) or inspect.iscoroutinefunction(
        getattr(authorize, "__call__", None)  # noqa: B004 - a callable object's async __call__
    ):
        principal = await authorize(request)  # type: ignore[misc]
    else:
        found = await run_in_threadpool(authorize, request)
        principal = await found if inspect.isawaitable(found) else found
    request.state.principal = principal
    return principal


def _builtin_principal(request: Request) -> Principal | None:
    deck = deck_of(request)
    policy: AccessPolicy = request.app.state.policy
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = accounts.token_role(deck.store, deck.clock, header[7:].strip())
        if token is None:
            return None
        return Principal(
            f"token:{token.id}",
            f"token {token.name}",
            token.role,
            policy.permissions(token.role),
            "token",
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = accounts.session_user(deck.store, deck.clock, policy, cookie)
    if found is None:
        return None
    session, user = found
    return Principal(
        str(user.id),
        user.email,
        user.role,
        policy.permissions(user.role),
        "session",
        session.csrf_token,
    )


async def require(request: Request, permission: str) -> Principal:
    """The single check: 401 without an identity, 403 without the permission, and the CSRF
    token on every state change made with a cookie (forms and htmx alike)."""
    principal = await identify(request)
    if principal is None:
        raise AccessDenied(401, "Please sign in to see background jobs.")
    if not principal.can(permission):
        raise AccessDenied(403, _refusal(principal, permission))
    if request.method in UNSAFE_METHODS and principal.via != "token":
        await check_csrf(request, principal)
    return principal


def needs(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """``require`` as a FastAPI dependency, for synchronous handlers (which FastAPI runs in
    its threadpool): ``principal: Annotated[Principal, Depends(needs("view"))]``."""

    async def dependency(request: Request) -> Principal:
        return await require(request, permission)

    dependency.__name__ = f"needs_{permission}"
    return dependency


# What a route asks for, as its parameter's type: ``def page(request, principal: Viewer)``.
Viewer = Annotated[Principal, Depends(needs("view"))]
LogReader = Annotated[Principal, Depends(needs("logs"))]
Trigger = Annotated[Principal, Depends(needs("trigger"))]
Operator = Annotated[Principal, Depends(needs("operate"))]
Enqueuer = Annotated[Principal, Depends(needs("enqueue"))]
Admin = Annotated[Principal, Depends(needs("admin"))]


def _refusal(principal: Principal, permission: str) -> str:
    if not principal.can("view") and permission in (
        "view",
        "logs",
        "trigger",
        "operate",
        "enqueue",
    ):
        return "You don't have access to background jobs."
    return (
        f"Your role ({principal.role}) does not allow this: it needs the {permission} permission."
    )


def csrf_token_for(request: Request) -> str:
    """The token pages embed: the session's own, else a double-submit cookie's value."""
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.csrf_token:
        return str(principal.csrf_token)
    existing = request.cookies.get(CSRF_COOKIE)
    if existing:
        return existing
    token = getattr(request.state, "new_csrf_cookie", None) or secrets.token_urlsafe(24)
    request.state.new_csrf_cookie = token
    return str(token)


async def check_csrf(request: Request, principal: Principal) -> None:
    check_same_origin(request)
    given = request.headers.get(CSRF_HEADER)
    if not given and "form" in request.headers.get("content-type", ""):
        form = await read_form(request)
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    expected = principal.csrf_token or request.cookies.get(CSRF_COOKIE)
    if not expected or not accounts.csrf_matches(expected, given):
        raise AccessDenied(403, "This request is missing its security token; reload the page.")


def check_same_origin(request: Request) -> None:
    """A state change must come from the dashboard's own pages: a foreign Origin (or, when a
    browser sends none, a foreign Referer) is refused even with a valid token."""
    sent = request.headers.get("origin")
    if sent is None:
        referer = request.headers.get("referer")
        if referer is None:
            return  # neither header (old clients, privacy tools): the token alone decides
        sent = origin_of(referer) or "null"
    expected = origin(request.url.scheme, request.url.netloc)
    if (origin_of(sent) if sent != "null" else None) != expected:
        raise AccessDenied(
            403, f"Refused: this request came from another site ({sent[:100]}), not {expected}."
        )


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def actor_of(request: Request, principal: Principal, via: str = "dashboard") -> accounts.Actor:
    return accounts.Actor(principal.name, principal.role, client_ip(request), via)
