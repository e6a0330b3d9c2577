"""How a page answers: a template with what every page needs (base URL, user, CSRF token,
timings), cookies scoped to the mount, htmx toasts, and the error pages."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from jobdeck.web.access import CSRF_COOKIE, AccessDenied, csrf_token_for
from jobdeck.web.errors import AnsweringRoute, public_error


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


async def error_page(request: Request, exc: Exception) -> Response:
    """The pages' one exception handler, with the status and message of ``public_error``: the
    error page, or for htmx a toast that leaves the page as it was. Without an identity and
    with jobdeck's own login, the sign-in page instead."""
    root = request.scope.get("root_path", "").rstrip("/")
    if isinstance(exc, AccessDenied) and exc.status == 401 and request.app.state.authorize is None:
        target = f"{root}/login?next={quote(request.url.path)}"
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    error = public_error(exc)
    message = error.message
    if isinstance(exc, RequestValidationError):  # "query.before: ..." reads as "before: ..."
        message = "Invalid request: " + message.removeprefix("query.").removeprefix("path.")
    toast = {"HX-Trigger": toast_header(message, "error")}
    if isinstance(exc, AccessDenied):
        if is_htmx(request):
            return Response(status_code=error.status, headers=toast)
        return render(request, "denied.html", status_code=error.status, message=message)
    if is_htmx(request):
        headers = {"HX-Reswap": "none", **toast}
        return render(
            request, "_error.html", status_code=error.status, message=message, headers=headers
        )
    return render(request, "error.html", status_code=error.status, message=message)


def toast_header(message: str, kind: str = "info") -> str:
    """The ``HX-Trigger`` value that makes the page show ``message`` as a toast."""
    return json.dumps({"jobdeck:toast": {"message": message, "kind": kind}})


class PageRoute(AnsweringRoute):
    """For the HTML pages: a parameter that fails its type is answered by ``error_page`` (a
    422 with the one-line error page, a toast for htmx), not with FastAPI's JSON. Only these
    routes: a host's own routers, mounted beside them, keep FastAPI's answer."""

    answered = (RequestValidationError,)

    async def answer(self, request: Request, exc: Exception) -> Response:
        # Rendered on the event loop: a small template, no store call.
        return await error_page(request, exc)
