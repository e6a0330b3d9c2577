"""The one table of how the dashboard answers an error: each exception its pages and its API
meet has one HTTP status, one short machine code and one public message, wherever it is raised.

The pages render the answer (an error page, a toast for htmx, the sign-in redirect) and the
API writes it as ``{"error": {"code", "message"}}``; both read it from ``public_error``, so the
same refusal never gets two statuses. The message is the exception's first line, except where
that text could leak internals (a store outage names a host or a file): then a fixed text is
shown and the real one logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from jobdeck import accounts, errors
from jobdeck.web.access import AccessDenied
from jobdeck.web.params import BadParameter, problem

logger = logging.getLogger("jobdeck.web")

# The text of a store outage names a host, a port or a file path: for whoever can read the
# server's log, not for everyone who can open the page.
STORE_DOWN = "The database cannot be reached; try again in a moment."
SCHEMA_MISMATCH = (
    "The database schema is not the one this jobdeck expects; an operator needs to run "
    "`jobdeck db migrate` (or upgrade jobdeck)."
)


@dataclass(frozen=True)
class PublicError:
    """What a client is told about a failure."""

    status: int
    code: str
    message: str


@dataclass(frozen=True)
class Rule:
    status: int
    code: str
    fixed_message: str | None = None  # said instead of the exception's own text


ErrorTable = Mapping[type[Exception], Rule]

# Found by the exception's class or its nearest listed base (DocumentNotFound is a
# JobNotFound). ConfigError stays a 400, not a 422: the value had the right shape but broke a
# rule no schema can hold (a role this deck does not define, an email already taken), and the
# API's schema test accepts 400 for those while a 422 would mean the schema promised too much.
ERROR_TABLE: ErrorTable = {
    BadParameter: Rule(422, "invalid"),
    RequestValidationError: Rule(422, "invalid"),
    errors.InvalidPayload: Rule(422, "invalid"),
    errors.SerializationError: Rule(422, "invalid"),
    errors.ArgumentsError: Rule(422, "invalid"),
    errors.ConfigError: Rule(400, "bad_request"),
    # after= naming a job that does not exist: the request is wrong, not a missing resource.
    errors.UnknownParentJob: Rule(400, "bad_request"),
    accounts.LoginRefused: Rule(401, "unauthorized"),
    errors.JobNotFound: Rule(404, "not_found"),
    errors.ErrorGroupNotFound: Rule(404, "not_found"),
    errors.UnknownSchedule: Rule(404, "not_found"),
    errors.UnknownTask: Rule(404, "not_found"),
    errors.UnknownWorker: Rule(404, "not_found"),
    errors.InvalidTransition: Rule(409, "conflict"),
    errors.MissingExtra: Rule(501, "not_installed"),
    errors.StoreUnavailable: Rule(503, "unavailable", STORE_DOWN),
    errors.SchemaError: Rule(503, "unavailable", SCHEMA_MISMATCH),
    # A mail server or webhook that refused or could not be reached: its one line says which.
    errors.DeliveryError: Rule(503, "unavailable"),
    errors.JobDeckError: Rule(400, "bad_request"),
}
# Exceptions that carry their status (an access check, the router's own answers) get the code
# of that status.
CODE_OF_STATUS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
}
_THROTTLED = Rule(429, "too_many_requests")
_TOO_LONG = Rule(400, "bad_request")


def public_error(exc: Exception, table: ErrorTable = ERROR_TABLE) -> PublicError:
    """The status, code and message ``exc`` is answered with, on a page or in the API;
    ``table`` is ERROR_TABLE, or ERROR_TABLE with rows added for a contrib's own errors."""
    if isinstance(exc, AccessDenied):
        return PublicError(exc.status, CODE_OF_STATUS.get(exc.status, "forbidden"), str(exc))
    if isinstance(exc, HTTPException):
        code = CODE_OF_STATUS.get(exc.status_code, "http_error")
        return PublicError(exc.status_code, code, str(exc.detail))
    rule = _rule_of(exc, table)
    if rule.fixed_message is not None:
        logger.warning("answered %s: %s", rule.status, exc)
        return PublicError(rule.status, rule.code, rule.fixed_message)
    return PublicError(rule.status, rule.code, _one_line(exc))


def _rule_of(exc: Exception, table: ErrorTable) -> Rule:
    if isinstance(exc, accounts.LoginRefused):
        if exc.retry_after:
            return _THROTTLED
        if str(exc) == accounts.TOO_LONG:  # refused before it was checked: not a wrong password
            return _TOO_LONG
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    raise TypeError(f"no answer for {type(exc).__name__}: not a JobDeckError")


def _one_line(exc: Exception) -> str:
    text = problem(exc) if isinstance(exc, RequestValidationError) else str(exc)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class AnsweringRoute(APIRoute):
    """A route that answers its own errors of the ``answered`` types, with ``answer``, before
    the app's exception handlers see them: for routers mounted beside others that answer
    otherwise (the pages' HTML next to a host's JSON routes, a contrib's JSON among the
    pages)."""

    answered: ClassVar[tuple[type[Exception], ...]] = ()

    async def answer(self, request: Request, exc: Exception) -> Response:
        raise NotImplementedError

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except self.answered as exc:
                return await self.answer(request, exc)

        return run
