"""The demo's host application, the litigation system the guides describe: its own sign-in
and pages at ``/`` (Home, Tasks, Analytics, the Dev Dashboard, Help), with the jobdeck
dashboard mounted inside it by ``deck.asgi(authorize=...)`` as the README shows.

The dashboard is mounted twice, one app at two paths. ``/dev/jobs`` is the Dev Dashboard's
Background Jobs tab. ``/`` (after the host's own routes) keeps the dashboard's pages and its
REST API where earlier demos served them (``/jobs``, ``/schedules``, ``/api/...``), so
bookmarks, scripts and the CLI's hints still work; both take the host's sign-in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from jobdeck.demo.app import deck, documents
from jobdeck.demo.signin import CurrentUser, NotAllowed, SignInFirst, SignInRequired, authorize
from jobdeck.demo.views import JOBS, render
from jobdeck.web.access import AccessDenied
from jobdeck.web.security import DashboardDefences

HERE = Path(__file__).parent


def dashboard(health_refresh: float = 30.0, live_refresh: float = 5.0) -> Any:
    """The jobdeck dashboard as the host mounts it, with the demo's extra pages and links
    back to the host (absolute paths: the same app serves under both mount points)."""
    from jobdeck.contrib.documents.web import documents_api, documents_pages
    from jobdeck.demo.web import mail_router

    return deck.asgi(
        authorize=authorize,
        health_refresh=health_refresh,
        live_refresh=live_refresh,
        extra_routers=[mail_router, documents_pages(documents), documents_api(documents)],
        extra_nav=[
            ("/dev", "← Dev Dashboard", "view"),
            ("documents/search", "Expert search", "search"),
            ("documents", "Documents", "trigger"),
            ("demo/mail", "Sent mail", "view"),
            ("/help/background-jobs", "Help", "view"),
        ],
    )


def create_host(health_refresh: float = 30.0, live_refresh: float = 5.0) -> FastAPI:
    from jobdeck.demo import dev_pages, help_pages, signin, work_pages

    host = FastAPI(title="jobdeck demo", docs_url=None, redoc_url=None, openapi_url=None)
    settings = deck.settings
    # The host's pages get the same headers as the dashboard's: no inline script or style.
    host.add_middleware(
        DashboardDefences,
        trusted_proxies=settings.trusted_proxies,
        frame_ancestors=settings.frame_ancestors,
    )
    host.add_middleware(CurrentUser)
    host.mount("/assets", StaticFiles(directory=HERE / "static"), name="assets")
    for router in (signin.router, work_pages.router, dev_pages.router, help_pages.router):
        host.include_router(router)
    host.add_exception_handler(SignInRequired, _sign_in_first)
    host.add_exception_handler(NotAllowed, _not_allowed)  # type: ignore[arg-type]
    host.add_exception_handler(AccessDenied, _refused)  # type: ignore[arg-type]
    jobs = SignInFirst(dashboard(health_refresh, live_refresh))
    host.mount(JOBS, jobs)
    host.mount("/", jobs)
    return host


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    from urllib.parse import quote

    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _not_allowed(request: Request, exc: NotAllowed) -> Response:
    return render(
        request, "message.html", status_code=403, title="Not for your role", message=str(exc)
    )


def _refused(request: Request, exc: AccessDenied) -> Response:
    return render(
        request, "message.html", status_code=exc.status, title="Refused", message=str(exc)
    )
