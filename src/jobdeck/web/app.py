"""The dashboard's ASGI app: pages (and later the REST API), mountable under any path."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from jobdeck.accounts import AccessPolicy
from jobdeck.errors import (
    JobDeckError,
    JobNotFound,
    SchemaError,
    StoreUnavailable,
    UnknownSchedule,
)
from jobdeck.web.access import CSRF_COOKIE, AccessDenied, Authorize, csrf_token_for
from jobdeck.web.formatting import install_filters
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
    from jobdeck.web import admin_pages, api, auth_pages, job_pages, metrics_pages, schedule_pages

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
    app.include_router(auth_pages.router)
    app.include_router(job_pages.router)
    app.include_router(schedule_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(metrics_pages.router)
    for router in extra_routers or []:
        app.include_router(router)
    # (href, label) or (href, label, permission); links show to those with the permission.
    app.state.extra_nav = [(*item, "view")[:3] for item in extra_nav or []]
    app.mount("/api", api.create_api(deck, app))
    app.add_exception_handler(AccessDenied, _access_denied)  # type: ignore[arg-type]
    app.add_exception_handler(JobDeckError, _jobdeck_error)  # type: ignore[arg-type]
    return app


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render with what every template needs: the base URL (for mounting), the user, timings."""
    root = request.scope.get("root_path", "").rstrip("/")
    context.setdefault("principal", getattr(request.state, "principal", None))
    context.setdefault("csrf_token", csrf_token_for(request))
    context.setdefault("builtin_login", request.app.state.authorize is None)
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request,
        template,
        {
            "base_href": root + "/",
            "extra_nav": request.app.state.extra_nav,
            "health_refresh": f"{request.app.state.health_refresh:g}",
            "live_refresh": f"{request.app.state.live_refresh:g}",
            "missing_assets": request.app.state.missing_assets,
            **context,
        },
        status_code=status_code,
        headers=headers,
    )
    new_cookie = getattr(request.state, "new_csrf_cookie", None)
    if new_cookie:
        set_cookie(request, response, CSRF_COOKIE, new_cookie, http_only=True)
    return response


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    http_only: bool = True,
    max_age: int | None = None,
) -> None:
    """Cookies scoped to where the dashboard is mounted; Secure when served over HTTPS."""
    root = request.scope.get("root_path", "").rstrip("/")
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=root + "/",
        httponly=http_only,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


async def _access_denied(request: Request, exc: AccessDenied) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")
    if exc.status == 401 and request.app.state.authorize is None:
        target = f"{root}/login?next={quote(request.url.path)}"
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if is_htmx(request):
        return Response(
            status_code=exc.status, headers={"HX-Trigger": toast_header(str(exc), "error")}
        )
    return render(request, "denied.html", status_code=exc.status, message=str(exc))


async def _jobdeck_error(request: Request, exc: JobDeckError) -> Response:
    status = 404 if isinstance(exc, JobNotFound | UnknownSchedule) else 400
    if isinstance(exc, StoreUnavailable | SchemaError):
        status = 503
    if is_htmx(request):
        return render(
            request,
            "_error.html",
            status_code=status,
            message=str(exc),
            headers={"HX-Reswap": "none", "HX-Trigger": toast_header(str(exc), "error")},
        )
    return render(request, "error.html", status_code=status, message=str(exc))


def toast_header(message: str, kind: str = "info") -> str:
    import json

    return json.dumps({"jobdeck:toast": {"message": message, "kind": kind}})
