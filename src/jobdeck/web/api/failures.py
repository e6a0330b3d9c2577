"""The API's error groups: the groups of a period with their sparklines, one group, and the
audited "retry all in this group", mute and unmute. A group's jobs are ``GET /jobs?group=``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from jobdeck import control
from jobdeck.store.base import ErrorGroupRow
from jobdeck.web.access import Operator, Viewer, actor_of
from jobdeck.web.api.models import ERROR_RESPONSES, RecordOut
from jobdeck.web.params import deck_of

Period = Literal["1h", "6h", "24h", "7d", "30d"]

router = APIRouter(responses=ERROR_RESPONSES)

# No docstrings on the models: pydantic would publish them as schema descriptions.


class ErrorGroupOut(RecordOut, record=ErrorGroupRow):
    muted: bool


class ErrorGroupSummaryOut(ErrorGroupOut):
    sparkline: list[int]  # failures per bucket_seconds from since, oldest first


class FailuresOut(BaseModel):
    period: str
    since: datetime
    until: datetime
    bucket_seconds: int
    include_muted: bool
    groups: list[ErrorGroupSummaryOut]


class RetriedOut(BaseModel):
    fingerprint: str
    retried: int


@router.get("/errors", response_model=FailuresOut)
def list_groups(
    request: Request, principal: Viewer, period: Period = "24h", muted: bool = False
) -> FailuresOut:
    """Error groups that failed in the period, most failures first; muted ones with muted=true."""
    deck = deck_of(request)
    found = control.failures(deck.store, deck.clock, period, include_muted=muted)
    return FailuresOut(
        period=found.period,
        since=found.since,
        until=found.until,
        bucket_seconds=found.bucket_seconds,
        include_muted=found.include_muted,
        groups=[ErrorGroupSummaryOut.of(g.group, sparkline=g.sparkline) for g in found.groups],
    )


@router.get("/errors/{fingerprint}", response_model=ErrorGroupOut)
def group_detail(request: Request, fingerprint: str, principal: Viewer) -> Any:
    """One error group with its all-time counts and its first failure as a sample."""
    return ErrorGroupOut.of(control.error_group(deck_of(request).store, fingerprint))


@router.post("/errors/{fingerprint}/retry", response_model=RetriedOut)
def retry_group(request: Request, fingerprint: str, principal: Operator) -> RetriedOut:
    """Run again now every failed or retrying job whose latest failure is in the group."""
    deck, actor = deck_of(request), actor_of(request, principal, via="api")
    retried = control.retry_error_group(deck.store, deck.clock, fingerprint, actor)
    return RetriedOut(fingerprint=fingerprint, retried=retried)


@router.post("/errors/{fingerprint}/{action}", response_model=ErrorGroupOut)
def mute_group(
    request: Request, fingerprint: str, action: Literal["mute", "unmute"], principal: Operator
) -> Any:
    """Mute a group (hidden by default, never alerted on), or unmute it."""
    deck, actor = deck_of(request), actor_of(request, principal, via="api")
    muted = action == "mute"
    control.mute_error_group(deck.store, deck.clock, fingerprint, actor, muted=muted)
    return ErrorGroupOut.of(control.error_group(deck.store, fingerprint))
