"""The Scheduled jobs page: a card per schedule, Run Now with its toast, pause, staleness."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck import control
from jobdeck.control import schedules as schedule_control
from jobdeck.control.history import MAX_REASON, manual_run_requests
from jobdeck.errors import JobNotFound
from jobdeck.schedules import ScheduleStatus
from jobdeck.schedules.status import RUN_NOW_READY
from jobdeck.states import JobState
from jobdeck.store.base import JobRow
from jobdeck.web.access import Operator, Principal, Trigger, Viewer, actor_of
from jobdeck.web.live import live
from jobdeck.web.params import Cursor, FormFields, ScheduleName, deck_of, reason_of
from jobdeck.web.rendering import PageRoute, render, toast_header

if TYPE_CHECKING:
    from jobdeck.deck import Deck

router = APIRouter(include_in_schema=False, route_class=PageRoute)

STATUS_REFRESH_S = 10
WATCH_REFRESH_S = 1
MAX_ATTEMPTS = 2**31 - 1  # the attempts column is an integer


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
    request: Request,
    name: ScheduleName,
    principal: Viewer,
    watch: Cursor = None,
    told: Annotated[int, Query(ge=0, le=MAX_ATTEMPTS)] = 0,
) -> Response:
    """The card's status block; ``watch`` follows a run to its end, ``told`` is the attempt
    whose retry its toast already announced (so each retry is told once)."""
    return _status_block(request, name, watch, told=told)


@router.post("/schedules/{name:path}/run", response_class=HTMLResponse)
def run_now(request: Request, name: ScheduleName, principal: Trigger, form: FormFields) -> Response:
    result = schedule_control.run_now(
        deck_of(request),
        name,
        actor_of(request, principal),
        reason=reason_of(form),
        confirm=form.get("confirm") == "1",
    )
    if result.created:
        toast = ("{title}: queued, starting now", "info")
        return _status_block(request, name, result.job_id, toast=toast)
    if result.refused == "cooldown":
        ago = math.floor(result.ran_seconds_ago or 0)
        toast = ("{title}: " + f"ran {ago} s ago; confirm to run again", "warn")
        return _status_block(request, name, None, toast=toast)
    return _status_block(request, name, result.job_id, toast=("{title}: " + result.message, "warn"))


@router.post("/schedules/{name:path}/pause", response_class=HTMLResponse)
def pause(request: Request, name: ScheduleName, principal: Operator, form: FormFields) -> Response:
    return _set_paused(request, principal, name, True, reason_of(form))


@router.post("/schedules/{name:path}/resume", response_class=HTMLResponse)
def resume(request: Request, name: ScheduleName, principal: Operator, form: FormFields) -> Response:
    return _set_paused(request, principal, name, False, reason_of(form))


def _set_paused(
    request: Request, principal: Principal, name: str, paused: bool, reason: str | None
) -> Response:
    actor = actor_of(request, principal)
    schedule_control.set_paused(deck_of(request), name, paused, actor, reason=reason)
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
        request,
        template,
        schedule_dom_id=schedule_dom_id,
        schedule_path=schedule_path,
        badge_of=badge_of,
        refresh_of=refresh_of,
        ran_seconds_ago=ran_seconds_ago,
        max_reason=MAX_REASON,
        **context,
    )


# -- view models ---------------------------------------------------------------------------------


def _status_block(
    request: Request,
    name: str,
    watch: int | None,
    toast: tuple[str, str] | None = None,
    told: int = 0,
) -> Response:
    deck = deck_of(request)
    now = deck.clock.now()
    status = schedule_control.schedule_status(deck, name)
    watched = _watched_job(deck, watch)
    if toast is None and watched is not None:
        toast, told = _progress_toast(watched, told, now)
        if watched.state in _SETTLED:
            watched = None
    if toast is not None:  # messages name the schedule by the title people know it by
        toast = (toast[0].replace("{title}", status.title), toast[1])
    headers = {"HX-Trigger": toast_header(*toast)} if toast else None
    return _render(
        request,
        "_schedule_status.html",
        headers=headers,
        s=status,
        watch=watched,
        told=told,
        now=now,
    )


# A retryable run is not settled: it fails "· retrying in N s", and is watched to its end.
_SETTLED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


def _progress_toast(job: JobRow, told: int, now: datetime) -> tuple[tuple[str, str] | None, int]:
    """The toast a watched run's news deserves, once each: a retry of a newer attempt than
    ``told``, or its final outcome; and the attempt told of now."""
    if job.state == JobState.RETRYABLE and job.attempt > told:
        return ("{title}: " + retrying_text(job.run_at, now), "warn"), job.attempt
    if job.state in _SETTLED:
        return _outcome_toast(job), told
    return None, told


def retrying_text(run_at: datetime, now: datetime) -> str:
    seconds = max(0, math.ceil((run_at - now).total_seconds()))
    return f"Failed · retrying in {seconds} s" if seconds else "Failed · retrying now"


def badge_of(s: ScheduleStatus, watch: JobRow | None, now: datetime) -> tuple[str, str]:
    """The card's badge (its kind, its words) for a schedule and the run being watched: the
    watched run wins, as the freshest news; a failed run with tries left says when it retries."""
    if watch is None:
        return s.status, s.badge_text
    if watch.state == JobState.RUNNING:
        return "running", "Running"
    if watch.state == JobState.RETRYABLE:
        return "failed", retrying_text(watch.run_at, now)
    return "pending", "Pending"


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


def refresh_of(status: ScheduleStatus, watched: JobRow | None) -> int:
    # Every second while something moves: a run watched, the Run Now button's "Running…" or
    # its "Ran 3 s ago", and a retry's countdown.
    moving = watched is not None or status.run_now != RUN_NOW_READY or status.retry_in_seconds
    return WATCH_REFRESH_S if moving else STATUS_REFRESH_S


def ran_seconds_ago(s: ScheduleStatus, now: datetime) -> int:
    """For the button's "Ran 3 s ago" during the cooldown."""
    if s.manual_finished_at is None:
        return 0
    return max(0, math.floor((now - s.manual_finished_at).total_seconds()))


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
