"""``GET /metrics``: the Prometheus text format, for a token or a session with the view permission.

Scrape it with ``Authorization: Bearer <token>`` (``jobdeck tokens create prometheus --role
...``). A refusal is a plain 401 or 403, never the sign-in redirect the pages give, so a
scraper reports it as what it is. Without the ``metrics`` extra the route still answers, with
501 and the pip command.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException

from jobdeck.errors import MissingExtra
from jobdeck.extras import require_extra
from jobdeck.web.access import AccessDenied, Principal, needs
from jobdeck.web.errors import public_error
from jobdeck.web.params import deck_of

router = APIRouter()
_view = needs("view")
_errors_lock = threading.Lock()


async def scraper(request: Request) -> Principal:
    """``needs("view")``, with its refusal as a bare status instead of the sign-in page."""
    try:
        return await _view(request)
    except AccessDenied as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        raise HTTPException(exc.status, str(exc), headers=headers) from None


# Synchronous: FastAPI runs it in its threadpool, so the store reads never hold the event loop.
@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, principal: Annotated[Principal, Depends(scraper)]) -> Response:
    try:
        require_extra("metrics", "the /metrics endpoint")
    except MissingExtra as exc:
        missing = public_error(exc)
        return PlainTextResponse(f"{missing.message}\n", status_code=missing.status)
    from jobdeck.web import prometheus as jobdeck_metrics

    app_state = request.app.state
    with _errors_lock:
        errors = getattr(app_state, "metrics_store_errors", None)
        if errors is None:
            errors = app_state.metrics_store_errors = jobdeck_metrics.StoreErrors()
    body = jobdeck_metrics.render(deck_of(request), errors)
    return Response(body, media_type=None, headers={"Content-Type": jobdeck_metrics.CONTENT_TYPE})
