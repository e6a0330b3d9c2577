"""Request parameters shared by the pages and the APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Path, Query
from starlette.requests import Request

if TYPE_CHECKING:
    from jobdeck.app import JobDeck

# Ids are 64-bit in both stores: larger numbers are refused as invalid input, never sent to
# the database (SQLite raises on them).
MAX_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Cursor = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def deck_of(request: Request) -> JobDeck:
    deck: JobDeck = request.app.state.deck
    return deck
