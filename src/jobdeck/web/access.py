"""Who is asking, and what they may do: the one authorization check every page goes through."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request

PERMISSIONS = ("view", "logs", "trigger", "operate", "search", "admin")

DEFAULT_ROLES: Mapping[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "partner": frozenset({"view", "logs", "trigger", "operate", "search"}),
    "attorney": frozenset({"search"}),
    "manager": frozenset(),
    "ca": frozenset(),
    "advocate": frozenset(),
    "user": frozenset(),
}


@dataclass(frozen=True)
class Principal:
    """The person (or token) behind a request."""

    id: str
    name: str
    role: str
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions


Authorize = Callable[[Request], "Awaitable[Principal | None] | Principal | None"]


def local_operator(request: Request) -> Principal:
    """Without login configured, whoever reaches the dashboard operates it: serve it on
    localhost only, or pass ``authorize=`` to reuse your application's login."""
    return Principal("local", "local operator", "admin", DEFAULT_ROLES["admin"])


class AccessDenied(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def resolve_principal(request: Request, authorize: Authorize) -> Principal | None:
    found = authorize(request)
    if inspect.isawaitable(found):
        found = await found
    return found


async def require(request: Request, permission: str) -> Principal:
    """The single check: 401 without an identity, 403 without the permission."""
    authorize: Authorize = request.app.state.authorize
    principal = await resolve_principal(request, authorize)
    if principal is None:
        raise AccessDenied(401, "Please sign in to see background jobs.")
    if not principal.can(permission):
        raise AccessDenied(403, "You don't have access to background jobs.")
    request.state.principal = principal
    return principal
