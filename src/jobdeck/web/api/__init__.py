"""The REST API under /api: the same control layer as the pages, JSON in and out, every error
as ``{"error": {"code", "message"}}``.

Every handler is synchronous: FastAPI runs it in its threadpool, so a slow store call never
holds the event loop, which, mounted, is the host application's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from jobdeck.errors import JobDeckError
from jobdeck.web.access import AccessDenied
from jobdeck.web.api import admin, failures, fleet, jobs, new_job, schedules
from jobdeck.web.errors import ERROR_TABLE, AnsweringRoute, ErrorTable, public_error

if TYPE_CHECKING:
    from jobdeck.deck import Deck

ROUTERS = (
    jobs.router,
    new_job.router,
    schedules.router,
    failures.router,
    fleet.router,
    admin.router,
)


def create_api(deck: Deck, parent: FastAPI) -> FastAPI:
    """The API app for ``deck``, sharing the dashboard's authorization and access policy."""
    api = FastAPI(
        title="jobdeck API", version="1", docs_url=None, redoc_url=None, openapi_url="/openapi.json"
    )
    api.state.deck = deck
    api.state.authorize = parent.state.authorize
    api.state.policy = parent.state.policy
    for router in ROUTERS:
        api.include_router(router)
    for error in (AccessDenied, JobDeckError, RequestValidationError, HTTPException):
        api.add_exception_handler(error, _error)
    return api


# -- errors: always {"error": {"code", "message"}}, status and text from the error table ------


def error_response(exc: Exception, table: ErrorTable = ERROR_TABLE) -> JSONResponse:
    error = public_error(exc, table)
    body = {"error": {"code": error.code, "message": error.message}}
    return JSONResponse(body, status_code=error.status)


async def _error(request: Request, exc: Exception) -> JSONResponse:
    """The router's own answers (no such path, wrong method) keep their headers: a 405 says in
    ``Allow`` which methods the path takes."""
    response = error_response(exc)
    if isinstance(exc, HTTPException):
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


class ApiRoute(AnsweringRoute):
    """For JSON routes mounted among the pages rather than under /api (a contrib's API): their
    errors are answered as /api answers them, by ``table`` (subclass it to add rows for your
    own errors: ``table = {TooLarge: Rule(413, "too_large"), **ERROR_TABLE}``)."""

    answered = (RequestValidationError, AccessDenied, JobDeckError)
    table: ClassVar[ErrorTable] = ERROR_TABLE

    async def answer(self, request: Request, exc: Exception) -> Response:
        return error_response(exc, self.table)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path: Starlette's own ``Allow`` names only the
    first route whose path matched (GET /users, not also POST /users)."""
    methods: set[str] = set()
    # The routers' own routes: the app's list holds each included router as one entry.
    for route in (route for router in ROUTERS for route in router.routes):
        match, child = route.matches({**request.scope, "method": "__none__"})
        # A {name:path} that took a slash is not what the schema means by the path: GET
        # /schedules/{name} is not a method of /schedules/x/run, though it would read "x/run".
        spans = any("/" in str(value) for value in child.get("path_params", {}).values())
        if match != Match.NONE and not spans:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)
