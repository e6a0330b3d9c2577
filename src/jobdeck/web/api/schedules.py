"""The API's schedules: their status and last runs, Run Now, pause and resume."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from jobdeck.control import schedules as schedule_control
from jobdeck.control.history import MAX_REASON
from jobdeck.web.access import Operator, Principal, Trigger, Viewer, actor_of
from jobdeck.web.api.models import (
    ERROR_RESPONSES,
    JobOut,
    ReasonIn,
    RunNowOut,
    ScheduleDetailOut,
    ScheduleOut,
)
from jobdeck.web.params import NO_NUL, ScheduleName, deck_of

router = APIRouter(responses=ERROR_RESPONSES)

Reason = Annotated[
    str | None,
    Query(
        max_length=MAX_REASON,
        pattern=NO_NUL,
        description=(
            "Why you did it: stored with the action in the audit log. The JSON body "
            '{"reason": ...}, as retry and cancel take it, says the same and wins.'
        ),
    ),
]
ReasonBody = Annotated[ReasonIn | None, Body()]
Confirm = Annotated[
    bool,
    Query(
        description=(
            "Run again although the last manual run finished within the schedule's "
            "run_now_cooldown. Never makes a second run while one is queued or running."
        )
    ),
]


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
def run_now(
    request: Request,
    name: ScheduleName,
    principal: Trigger,
    confirm: Confirm = False,
    reason: Reason = None,
    body: ReasonBody = None,
) -> RunNowOut:
    """Queue a manual run. ``created`` false: no new run was made, and ``refused`` says why:
    ``active`` (``job_id`` is still queued or running) or ``cooldown`` (it finished
    ``ran_seconds_ago``; send ``confirm=true`` to run again, or wait ``cooldown_left_seconds``)."""
    actor = actor_of(request, principal, via="api")
    why = _reason(reason, body)
    result = schedule_control.run_now(deck_of(request), name, actor, reason=why, confirm=confirm)
    return RunNowOut.of(result)


@router.post("/schedules/{name:path}/pause", response_model=ScheduleOut)
def pause(
    request: Request,
    name: ScheduleName,
    principal: Operator,
    reason: Reason = None,
    body: ReasonBody = None,
) -> ScheduleOut:
    return _set_paused(request, principal, name, True, _reason(reason, body))


@router.post("/schedules/{name:path}/resume", response_model=ScheduleOut)
def resume(
    request: Request,
    name: ScheduleName,
    principal: Operator,
    reason: Reason = None,
    body: ReasonBody = None,
) -> ScheduleOut:
    return _set_paused(request, principal, name, False, _reason(reason, body))


def _set_paused(
    request: Request, principal: Principal, name: str, paused: bool, reason: str | None
) -> ScheduleOut:
    deck = deck_of(request)
    actor = actor_of(request, principal, via="api")
    schedule_control.set_paused(deck, name, paused, actor, reason=reason)
    return ScheduleOut.of(schedule_control.schedule_status(deck, name))


def _reason(query: str | None, body: ReasonIn | None) -> str | None:
    """The body's reason, else the query's: both forms are accepted, as jobs take the body."""
    return body.reason if body is not None and body.reason else query
