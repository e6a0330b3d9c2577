"""The dashboard inside a WSGI application (Flask, Django's WSGI handler, Pyramid, Bottle):
the ASGI dashboard served through a2wsgi's ASGIMiddleware, under a path of the host app.

    from jobdeck.contrib.wsgi import mount
    mount(flask_app, "/admin/jobs", deck, authorize=authorize)

Needs ``pip install 'jobdeck[wsgi]'``. a2wsgi runs the dashboard on one event-loop thread of
its own; the dashboard's handlers (and a synchronous ``authorize``) still run in its threadpool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from jobdeck.errors import MissingExtra

if TYPE_CHECKING:
    from starlette.requests import Request

    from jobdeck.app import JobDeck

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def dashboard(deck: JobDeck, *, authorize: Any = None, **options: Any) -> WSGIApp:
    """The dashboard as a WSGI app; ``authorize`` and ``options`` are ``deck.asgi``'s."""
    try:
        from a2wsgi import ASGIMiddleware
    except ImportError:
        raise MissingExtra(
            "the dashboard in a WSGI app needs jobdeck's 'wsgi' extra (a2wsgi not installed): "
            "pip install 'jobdeck[wsgi]'",
            extra="wsgi",
        ) from None

    # a2wsgi's own environ types are narrower TypedDicts than the plain dict a host passes.
    return cast(WSGIApp, ASGIMiddleware(deck.asgi(authorize=authorize, **options)))


def mount(app: Any, path: str, deck: JobDeck, *, authorize: Any = None, **options: Any) -> Any:
    """Serve the dashboard at ``path`` inside ``app``; every other request goes to ``app``.

    A Flask app gets its ``wsgi_app`` wrapped (so ``flask run`` and its test client serve the
    dashboard) and is returned; any other WSGI callable comes back wrapped.
    """
    jobs_app = dashboard(deck, authorize=authorize, **options)
    if hasattr(app, "wsgi_app"):  # Flask: wrap the WSGI callable, keep the Flask object
        app.wsgi_app = PathDispatcher(app.wsgi_app, path, jobs_app)
        return app
    return PathDispatcher(app, path, jobs_app)


class PathDispatcher:
    """Requests under ``path`` go to ``mounted`` with SCRIPT_NAME and PATH_INFO moved, as a
    WSGI mount does; the rest go to ``app``. Werkzeug's DispatcherMiddleware does the same,
    but this keeps the adapter free of Werkzeug for hosts that are not Flask."""

    def __init__(self, app: WSGIApp, path: str, mounted: WSGIApp) -> None:
        self.app = app
        self.prefix = "/" + path.strip("/")
        self.mounted = mounted

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path_info: str = environ.get("PATH_INFO", "")
        if path_info == self.prefix or path_info.startswith(self.prefix + "/"):
            environ = dict(environ)
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
            environ["PATH_INFO"] = path_info[len(self.prefix) :]
            return self.mounted(environ, start_response)
        return self.app(environ, start_response)


def flask_session(flask_app: Any, request: Request) -> dict[str, Any] | None:
    """The Flask session of a dashboard request (the signed ``session`` cookie Flask set), or
    None when absent, forged or expired; for an ``authorize`` that reuses a Flask login."""
    interface = flask_app.session_interface
    cookie = request.cookies.get(flask_app.config["SESSION_COOKIE_NAME"])
    serializer = interface.get_signing_serializer(flask_app)
    if not cookie or serializer is None:
        return None
    try:
        max_age = int(flask_app.permanent_session_lifetime.total_seconds())
        data = serializer.loads(cookie, max_age=max_age)
    except Exception:  # itsdangerous' BadSignature and expiry; a bad cookie is no session
        return None
    return dict(data) if isinstance(data, dict) else None
