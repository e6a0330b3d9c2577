"""The API's schedules: their status and last runs, Run Now, pause and resume."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from jobdeck.control import schedules as schedule_control
from jobdeck.web.access import Operator, Principal, Trigger, Viewer, actor_of
from jobdeck.web.api.models import (
    ERROR_RESPONSES,
    JobOut,
    RunNowOut,
    ScheduleDetailOut,
    ScheduleOut,
)
from jobdeck.web.params import ScheduleName, deck_of

router = APIRouter(responses=ERROR_RESPONSES)


@router.get("/schedules", response_model=list[ScheduleOut])
def schedules(request: Request, principal: Viewer) -> list[ScheduleOut]:
    return [ScheduleOut.of(s) for s in schedule_control.schedule_statuses(deck_of(request))]


@router.get("/schedules/{name:path}", response_model=ScheduleDetailOut)
def schedule_detail(
    request: Request,
    name: ScheduleName,
    principal: Viewer,
    runs: Annotated[int, Query(ge=1, le=100)] = 10,
) -> ScheduleDetailOut:
    """A schedule and its last runs. A name with a slash is sent as %2F."""
    deck = deck_of(request)
    status = schedule_control.schedule_status(deck, name)
    return ScheduleDetailOut(
        schedule=ScheduleOut.of(status),
        runs=[JobOut.of(j) for j in schedule_control.recent_runs(deck, name, runs)],
    )


@router.post("/schedules/{name:path}/run", response_model=RunNowOut)
def run_now(request: Request, name: ScheduleName, principal: Trigger) -> RunNowOut:
    result = schedule_control.run_now(
        deck_of(request), name, actor_of(request, principal, via="api")
    )
    return RunNowOut.of(result)


@router.post("/schedules/{name:path}/pause", response_model=ScheduleOut)
def pause(request: Request, name: ScheduleName, principal: Operator) -> ScheduleOut:
    return _set_paused(request, principal, name, True)


@router.post("/schedules/{name:path}/resume", response_model=ScheduleOut)
def resume(request: Request, name: ScheduleName, principal: Operator) -> ScheduleOut:
    return _set_paused(request, principal, name, False)


def _set_paused(request: Request, principal: Principal, name: str, paused: bool) -> ScheduleOut:
    deck = deck_of(request)
    schedule_control.set_paused(deck, name, paused, actor_of(request, principal, via="api"))
    return ScheduleOut.of(schedule_control.schedule_status(deck, name))
