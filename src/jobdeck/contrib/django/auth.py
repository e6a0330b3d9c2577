"""Django's sign-in for the dashboard: an ``authorize`` that finds the user of Django's session
cookie and maps them to a jobdeck role by the backend's OPTIONS["ROLES"]."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from django.conf import settings  # type: ignore[import-not-found]
from django.contrib.auth import get_user  # type: ignore[import-not-found]
from django.db import close_old_connections  # type: ignore[import-not-found]

from jobdeck.accounts import AccessPolicy
from jobdeck.errors import ConfigError

# What a ROLES key may say about a user; the first key that matches gives the role.
_KINDS = ("superuser", "staff", "authenticated")
NO_ACCESS_ROLE = "user"  # signed in, but no ROLES entry matches: the "no access" page (403)


def check_roles(roles: Mapping[str, str], policy: AccessPolicy) -> dict[str, str]:
    """ROLES as given, refused when a key or a role is unknown (so a typo never grants access)."""
    for key, role in roles.items():
        kind, _, name = key.partition(":")
        if not ((key in _KINDS) or (kind in ("group", "user") and name)):
            raise ConfigError(
                f"ROLES key {key!r}: use superuser, staff, authenticated, group:NAME or user:NAME"
            )
        policy.check_role(role)
    return dict(roles)


def role_of(user: Any, roles: Mapping[str, str]) -> str:
    """The jobdeck role of a signed-in Django user: the first ROLES key that matches."""
    groups: set[str] | None = None
    for key, role in roles.items():
        kind, _, name = key.partition(":")
        if kind == "group":
            if groups is None:
                groups = set(user.groups.values_list("name", flat=True))
            matched = name in groups
        elif kind == "user":
            matched = user.get_username() == name
        else:
            matched = key == "authenticated" or bool(getattr(user, f"is_{key}", False))
        if matched:
            return role
    return NO_ACCESS_ROLE


def django_authorize(roles: Mapping[str, str], policy: AccessPolicy | None = None) -> Any:
    """``authorize(request)`` for ``deck.asgi``: Django's session user as a Principal, or None.

    Synchronous on purpose: it reads the session and the user through Django's ORM, and jobdeck
    runs a synchronous ``authorize`` in the threadpool, never on the event loop.
    """
    from jobdeck.web.access import Principal

    policy = policy or AccessPolicy()
    checked = check_roles(roles, policy)

    def authorize(request: Any) -> Principal | None:
        session_key = request.cookies.get(settings.SESSION_COOKIE_NAME)
        if not session_key:
            return None
        try:
            session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
            # get_user reads only request.session (and flushes it when the password changed).
            user = get_user(SimpleNamespace(session=session))
            if not user.is_authenticated or not user.is_active:
                return None
            name = getattr(user, "email", "") or user.get_username()
            return Principal.with_role(str(user.pk), name, role_of(user, checked), policy)
        finally:
            close_old_connections()  # this threadpool thread serves no Django request cycle

    return authorize
