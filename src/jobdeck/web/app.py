"""The dashboard's app factory: the pages, the REST API under /api and the static files, as one
ASGI app mountable under any path."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from jobdeck.accounts import AccessPolicy
from jobdeck.errors import JobDeckError
from jobdeck.web.access import AccessDenied, Authorize
from jobdeck.web.formatting import install_filters
from jobdeck.web.rendering import error_page
from jobdeck.web.security import DashboardDefences, parse_networks

if TYPE_CHECKING:
    from jobdeck.deck import Deck

HERE = Path(__file__).parent
VENDOR_FILES = ("htmx.min.js", "uPlot.iife.min.js", "uPlot.min.css")
logger = logging.getLogger("jobdeck.web")


def missing_assets_warning(static: Path = HERE / "static") -> str | None:
    """One line for every page when the vendored JavaScript is absent, else None.

    Wheels and sdists carry these files; only a source tree whose vendor folder was deleted
    lacks them, and then the pages render but nothing interactive works: say so, never
    leave a silent half-working page.
    """
    missing = [name for name in VENDOR_FILES if not (static / "vendor" / name).is_file()]
    if not missing:
        return None
    return (
        f"The dashboard's JavaScript is missing ({', '.join(missing)}): filters, the drawer, "
        "live updates and the chart will not work. Reinstall jobdeck, or in a source checkout "
        "run: python3 scripts/vendor_static.py"
    )


def create_app(
    deck: Deck,
    *,
    authorize: Authorize | None = None,
    health_refresh: float = 30.0,
    live_refresh: float = 5.0,
    extra_routers: list[APIRouter] | None = None,
    extra_nav: list[tuple[str, ...]] | None = None,
) -> FastAPI:
    """The dashboard for ``deck``. Mount it anywhere: ``app.mount("/admin/jobs", deck.asgi())``.

    Without ``authorize`` people sign in with jobdeck's own users (``jobdeck users add``);
    with it, ``authorize(request)`` maps your app's logged-in user to a Principal.
    """
    from jobdeck.web import api
    from jobdeck.web.pages import (
        admin,
        auth,
        bulk,
        failures,
        fleet,
        jobs,
        metrics,
        new_job,
        schedules,
    )

    app = FastAPI(title="jobdeck", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.deck = deck
    app.state.authorize = authorize
    settings = deck.settings
    app.state.policy = AccessPolicy.from_settings(
        settings.role_permissions,
        session_idle=settings.session_idle,
        session_absolute=settings.session_absolute,
    )
    parse_networks(settings.trusted_proxies)  # a bad entry fails here, not at the first request
    app.add_middleware(
        DashboardDefences,
        trusted_proxies=settings.trusted_proxies,
        frame_ancestors=settings.frame_ancestors,
    )
    app.state.health_refresh = health_refresh
    app.state.live_refresh = live_refresh
    app.state.missing_assets = missing_assets_warning()
    if app.state.missing_assets:
        logger.error("%s", app.state.missing_assets)
    templates = Jinja2Templates(directory=HERE / "templates")
    install_filters(templates.env)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth.router)
    # Before jobs: /jobs/bulk/retry is not the job "bulk"'s retry.
    app.include_router(bulk.router)
    app.include_router(new_job.router)  # before jobs: /jobs/new is not a job
    app.include_router(jobs.router)
    app.include_router(schedules.router)
    app.include_router(fleet.router)
    app.include_router(failures.router)
    app.include_router(admin.router)
    app.include_router(metrics.router)
    for router in extra_routers or []:
        app.include_router(router)
    # (href, label) or (href, label, permission); links show to those with the permission.
    app.state.extra_nav = [(*item, "view")[:3] for item in extra_nav or []]
    app.mount("/api", api.create_api(deck, app))
    app.add_exception_handler(AccessDenied, error_page)
    app.add_exception_handler(JobDeckError, error_page)
    return app
