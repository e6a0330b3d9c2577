"""The dashboard's ASGI app: pages (and later the REST API), mountable under any path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from jobdeck.errors import JobDeckError, JobNotFound, UnknownSchedule
from jobdeck.web.access import AccessDenied, Authorize, local_operator
from jobdeck.web.formatting import install_filters

if TYPE_CHECKING:
    from jobdeck.app import JobDeck

HERE = Path(__file__).parent


def create_app(
    deck: JobDeck,
    *,
    authorize: Authorize | None = None,
    health_refresh: float = 30.0,
    live_refresh: float = 5.0,
) -> FastAPI:
    """The dashboard for ``deck``. Mount it anywhere: ``app.mount("/admin/jobs", deck.asgi())``."""
    from jobdeck.web import job_pages, schedule_pages

    app = FastAPI(title="jobdeck", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.deck = deck
    app.state.authorize = authorize or local_operator
    app.state.health_refresh = health_refresh
    app.state.live_refresh = live_refresh
    templates = Jinja2Templates(directory=HERE / "templates")
    install_filters(templates.env)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(job_pages.router)
    app.include_router(schedule_pages.router)
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
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        template,
        {
            "base_href": root + "/",
            "health_refresh": f"{request.app.state.health_refresh:g}",
            "live_refresh": f"{request.app.state.live_refresh:g}",
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


async def _access_denied(request: Request, exc: AccessDenied) -> Response:
    return render(request, "denied.html", status_code=exc.status, message=str(exc))


async def _jobdeck_error(request: Request, exc: JobDeckError) -> Response:
    status = 404 if isinstance(exc, JobNotFound | UnknownSchedule) else 400
    if exc.__class__.__name__ in ("StoreUnavailable", "SchemaError"):
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
