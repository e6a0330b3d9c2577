"""The dashboard inside a Django project's ASGI application, behind Django's sign-in.

In ``mysite/asgi.py``:
``application = with_dashboard(get_asgi_application(), path="/admin/jobs")``.
"""

from __future__ import annotations

from typing import Any

from jobdeck.accounts import AccessPolicy
from jobdeck.contrib.django.auth import django_authorize
from jobdeck.contrib.django.backend import backend_options, deck_for


def dashboard(backend: str = "default", **options: Any) -> Any:
    """The dashboard's ASGI app for ``TASKS[backend]``, signed in by Django's session and
    OPTIONS["ROLES"] (default: superusers are admins)."""
    deck = deck_for(backend)
    roles = backend_options(backend).get("ROLES") or {"superuser": "admin"}
    settings = deck.settings
    policy = AccessPolicy.from_settings(
        settings.role_permissions,
        session_idle=settings.session_idle,
        session_absolute=settings.session_absolute,
    )
    return deck.asgi(authorize=django_authorize(roles, policy), **options)


def with_dashboard(
    django_app: Any, path: str = "/admin/jobs", backend: str = "default", **options: Any
) -> Any:
    """``django_app`` with the dashboard at ``path``; every other request goes to Django.

    Django has no mount, so this small dispatcher is one: under ``path`` it sets ``root_path``
    (and keeps the full ``path``, as Starlette's Mount does), and it answers ``lifespan`` itself,
    which Django's ASGI handler refuses.
    """
    prefix = "/" + path.strip("/")
    jobs_app = dashboard(backend, **options)

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await jobs_app(scope, receive, send)
            return
        route = scope["path"][len(scope.get("root_path", "")) :]
        if scope["type"] in ("http", "websocket") and (
            route == prefix or route.startswith(prefix + "/")
        ):
            inner = dict(scope, root_path=scope.get("root_path", "") + prefix)
            await jobs_app(inner, receive, send)
            return
        await django_app(scope, receive, send)

    return application
