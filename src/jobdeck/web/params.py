"""Request parameters shared by the pages and the APIs: each kind of value (an id, a name, a
filter text, a day, an instant) is parsed by one type here, so a bad value is refused the same
way everywhere (422 in the APIs, a 422 page or a one-line notice on the pages) and never
reaches the database."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from annotated_types import Ge, Le
from fastapi import Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    BeforeValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from jobdeck.control.history import MAX_REASON
from jobdeck.errors import JobDeckError

if TYPE_CHECKING:
    from jobdeck.deck import Deck

T = TypeVar("T")

# Ids are 64-bit in both stores: larger numbers are refused as invalid input, never sent to
# the database (SQLite raises on them). Only ASCII digits: "²" passes str.isdigit() and then
# breaks int(), and pydantic alone would also take "+5", " 5" and "1_000".
MAX_ID = 2**63 - 1
# PostgreSQL text cannot hold NUL, and neither store can encode a lone surrogate (which a JSON
# body can carry as "\udc00"; pydantic refuses those when a pattern is checked).
NO_NUL = r"^[^\x00]*$"
MAX_TEXT = 200
# Days and instants are clamped to these: no job or audit row lies outside, and past them
# datetime itself breaks (the end of 9999-12-31 in UTC-14 overflows on its way to UTC; SQLite's
# text timestamps sort wrongly before year 1000). A filter "from 0001-01-01" means "from the
# start", and gets it.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)
_FIRST = datetime.combine(FIRST_DAY, time.min, UTC)
_LAST = datetime.combine(LAST_DAY, time.max, UTC)
_DIGITS = re.compile(r"[0-9]{1,30}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)


def _shaped(pattern: re.Pattern[str], shape: str) -> Callable[[Any], Any]:
    """Text must look like ``shape`` before pydantic reads it: its lax mode also takes "0" as
    a date (a Unix time) and "1_000" as a number, which the OpenAPI schema does not allow."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"must be {shape}")
        return value

    return check


def _clamp_day(day: date) -> date:
    return min(max(day, FIRST_DAY), LAST_DAY)


def _clamp_utc(moment: datetime) -> datetime:
    """Naive instants are UTC (our own cursors never are naive); every other zone is moved to
    UTC here, once, so the stores only ever see in-range UTC instants."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # within a day of year 1 or 9999
        return _LAST if moment.year > LAST_DAY.year else _FIRST
    return min(max(moment, _FIRST), _LAST)


Id = Annotated[int, Ge(1), Le(MAX_ID), BeforeValidator(_shaped(_DIGITS, "a whole number"))]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT, pattern=NO_NUL)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=NO_NUL)]
# An audit row's id, as our own cursors carry it: "op-12" or "run-34".
AuditId = Annotated[str, StringConstraints(max_length=40, pattern=r"^(op|run)-[0-9]{1,19}$")]
Day = Annotated[
    date, BeforeValidator(_shaped(_DAY, "a date like 2025-01-31")), AfterValidator(_clamp_day)
]
Instant = Annotated[
    datetime,
    BeforeValidator(_shaped(_INSTANT, "a time like 2025-01-31T09:30:00Z")),
    AfterValidator(_clamp_utc),
]

RowId = Annotated[Id, Path()]
Cursor = Annotated[Id | None, Query()]
# A schedule's name, whatever it holds: routes declare it ``{name:path}`` so that a name with
# a slash (sent as %2F, which the server decodes) still reaches the handler.
ScheduleName = Annotated[Name, Path()]
TextFilter = Annotated[Text | None, Query()]
Limit = Annotated[int, Query(ge=1, le=200)]  # how many rows one page of an API list holds


# The same types, for values read by hand (a page's lenient filters): ValueError if bad.
parse_id: Callable[[str], int] = TypeAdapter(Id).validate_python
parse_day: Callable[[str], date] = TypeAdapter(Day).validate_python
parse_instant: Callable[[str], datetime] = TypeAdapter(Instant).validate_python
parse_text: Callable[[str], str] = TypeAdapter(Text).validate_python
parse_audit_id: Callable[[str], str] = TypeAdapter(AuditId).validate_python


def or_none(parse: Callable[[str], T], text: str) -> T | None:
    """``parse(text)``, or None when the text is not of the type: for the pages' lenient
    filters, which drop a bad value with a notice rather than refuse the page."""
    try:
        return parse(text)
    except ValueError:  # pydantic's ValidationError is one
        return None


def problem(exc: ValidationError | RequestValidationError) -> str:
    """The first error of a validation as one line: ``before: Input should be ...``."""
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "invalid value"))
    return f"{where}: {message}" if where else message


class BadParameter(JobDeckError, ValueError):
    """A request parameter is not what its route takes: a 422, never a 500."""


async def read_form(request: Request) -> FormData:
    """The request's form (parsed once, then cached by Starlette). Starlette's own refusal of
    the body (a field past its 1 MB part limit) would be a JSON 400 on a page: it is a
    one-line bad parameter instead, like any other."""
    try:
        return await request.form()
    except HTTPException as exc:
        raise BadParameter(f"Invalid request: {exc.detail}") from None


async def form_fields(request: Request) -> dict[str, str]:
    """A page form's text fields, read once on the event loop (so synchronous handlers get
    them as a plain dict) and held to the ``Text`` rule: no NUL reaches a store."""
    form = await read_form(request)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    for key, value in fields.items():
        if "\x00" in value:
            raise BadParameter(f"Invalid request: {key} must not contain NUL characters")
    return fields


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def reason_of(form: dict[str, str]) -> str | None:
    """The optional reason an operator typed beside a button, kept with the audit row; empty
    means none, and a novel is refused, not cut."""
    reason = form.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        raise BadParameter(f"The reason is {len(reason)} characters long; at most {MAX_REASON}.")
    return reason or None


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def day_end(day: date) -> datetime:
    return datetime.combine(day, time.max, UTC)


def deck_of(request: Request) -> Deck:
    deck: Deck = request.app.state.deck
    return deck
