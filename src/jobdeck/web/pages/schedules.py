"""The Scheduled jobs page: a card per schedule, Run Now with its toast, pause, staleness."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck import control
from jobdeck.control import schedules as schedule_control
from jobdeck.control.history import manual_run_requests
from jobdeck.errors import JobNotFound
from jobdeck.schedules import ScheduleStatus
from jobdeck.states import JobState
from jobdeck.store.base import JobRow
from jobdeck.web.access import Operator, Principal, Trigger, Viewer, actor_of
from jobdeck.web.live import live
from jobdeck.web.params import Cursor, ScheduleName, deck_of
from jobdeck.web.rendering import PageRoute, render, toast_header

if TYPE_CHECKING:
    from jobdeck.deck import Deck

router = APIRouter(include_in_schema=False, route_class=PageRoute)

STATUS_REFRESH_S = 10
WATCH_REFRESH_S = 1


# Synchronous handlers: FastAPI runs them in its threadpool, so the store and the templates
# never hold the event loop. Names are ``{name:path}``: a name with a slash arrives as %2F.


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, principal: Viewer) -> Response:
    deck = deck_of(request)
    statuses = schedule_control.schedule_statuses(deck)
    return _render(
        request,
        "schedules.html",
        nav="schedules",
        statuses=statuses,
        summary=_summary(deck, statuses),
        now=deck.clock.now(),
        watch=None,
    )


@router.get("/schedules/summary", response_class=HTMLResponse)
def schedules_summary(request: Request, principal: Viewer) -> Response:
    deck = deck_of(request)
    statuses = schedule_control.schedule_statuses(deck)
    return _render(request, "_schedule_summary.html", summary=_summary(deck, statuses))


@router.get("/schedules/{name:path}/status", response_class=HTMLResponse)
def schedule_status(
    request: Request, name: ScheduleName, principal: Viewer, watch: Cursor = None
) -> Response:
    return _status_block(request, name, watch)


@router.post("/schedules/{name:path}/run", response_class=HTMLResponse)
def run_now(request: Request, name: ScheduleName, principal: Trigger) -> Response:
    result = schedule_control.run_now(deck_of(request), name, actor_of(request, principal))
    if result.created:
        toast = ("{title}: queued, starting now", "info")
    else:
        toast = ("{title} is already queued or running (job #" + f"{result.job_id})", "warn")
    return _status_block(request, name, result.job_id, toast=toast)


@router.post("/schedules/{name:path}/pause", response_class=HTMLResponse)
def pause(request: Request, name: ScheduleName, principal: Operator) -> Response:
    return _set_paused(request, principal, name, paused=True)


@router.post("/schedules/{name:path}/resume", response_class=HTMLResponse)
def resume(request: Request, name: ScheduleName, principal: Operator) -> Response:
    return _set_paused(request, principal, name, paused=False)


def _set_paused(request: Request, principal: Principal, name: str, paused: bool) -> Response:
    schedule_control.set_paused(deck_of(request), name, paused, actor_of(request, principal))
    action = "pause" if paused else "resume"
    return _status_block(request, name, None, toast=(f"{name} {action}d", "info"))


@router.get("/schedules/{name:path}/runs", response_class=HTMLResponse)
def recent_runs(request: Request, name: ScheduleName, principal: Viewer) -> Response:
    """The card's "Last 10 executions": loaded when opened, then polled (204 if unchanged).
    A manual run says who asked for it and why, to those who may read the logs."""
    deck = deck_of(request)
    runs = schedule_control.recent_runs(deck, name, 10)
    manual = any(job.trigger == "manual" for job in runs)
    requests = manual_run_requests(deck.store, name) if manual and principal.can("logs") else {}
    page = _render(
        request,
        "_schedule_runs.html",
        name=name,
        runs=runs,
        requests=requests,
        now=deck.clock.now(),
    )
    return live(request, page)


# -- element ids and URLs from names -------------------------------------------------------------


def schedule_dom_id(name: str) -> str:
    """An HTML id (and CSS selector) for a schedule's elements, whatever its name holds (dots,
    spaces, quotes, slashes, any script): the name's ASCII letters, digits, ``_`` and ``-`` for
    whoever reads the page, then a digest of the whole name, so that two names that differ
    only in other characters still get two ids. Prefix it with a word (``card-``)."""
    readable = _NOT_ID.sub("-", name)[:40].strip("-")
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{readable}-{digest}" if readable else digest


def schedule_path(name: str) -> str:
    """``schedules/<name>`` with the name percent-encoded as one path segment."""
    return "schedules/" + quote(name, safe="")


_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")


def _render(request: Request, template: str, **context: Any) -> Response:
    return render(
        request, template, schedule_dom_id=schedule_dom_id, schedule_path=schedule_path, **context
    )


# -- view models ---------------------------------------------------------------------------------


def _status_block(
    request: Request, name: str, watch: int | None, toast: tuple[str, str] | None = None
) -> Response:
    deck = deck_of(request)
    status = schedule_control.schedule_status(deck, name)
    watched = _watched_job(deck, watch)
    if toast is not None:  # messages name the schedule by the title people know it by
        toast = (toast[0].replace("{title}", status.title), toast[1])
    if watched is not None and watched.state in _SETTLED and toast is None:
        toast = _outcome_toast(watched)
        watched = None
    headers = {"HX-Trigger": toast_header(*toast)} if toast else None
    return _render(
        request,
        "_schedule_status.html",
        headers=headers,
        s=status,
        watch=watched,
        now=deck.clock.now(),
        refresh=_refresh(watched),
    )


_SETTLED = (JobState.SUCCEEDED, JobState.FAILED, JobState.RETRYABLE, JobState.CANCELLED)


def _watched_job(deck: Deck, job_id: int | None) -> JobRow | None:
    if job_id is None:
        return None
    try:
        return control.job_detail(deck.store, job_id).job
    except JobNotFound:
        return None


def _outcome_toast(job: JobRow) -> tuple[str, str]:
    if job.state == JobState.SUCCEEDED:
        return f"Job executed successfully - {job.summary or 'done'}", "success"
    if job.state == JobState.CANCELLED:
        return "Job was cancelled before it ran", "warn"
    return "Job execution failed - Check logs for details", "error"


def _refresh(watched: JobRow | None) -> int:
    return WATCH_REFRESH_S if watched is not None else STATUS_REFRESH_S


def _summary(deck: Deck, statuses: list[ScheduleStatus]) -> dict[str, Any]:
    """The guide's health indicators: failed jobs, stale last runs, no worker."""
    health = control.worker_health(
        deck.store, deck.clock, deck.settings.heartbeat_interval, deck.settings.expected_workers
    )
    active = [s for s in statuses if s.active]
    failed = [s.title for s in active if s.status == "failed"]
    stale = [s.title for s in active if s.stale]
    problems = []
    if not health.healthy:
        problems.append(f"No healthy worker ({health.reason})")
    if failed:
        problems.append(f"{len(failed)} failed: {', '.join(failed)}")
    if stale:
        problems.append(f"{len(stale)} not run recently: {', '.join(stale)}")
    return {"healthy": not problems, "problems": problems, "count": len(active)}
