"""Help: the operator's guide to the Background Jobs dashboard written for jobdeck, the Job
Monitoring guide, and the feedback form (stored in the demo's database, shown to admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from jobdeck.control.schedules import schedule_statuses
from jobdeck.demo import desk
from jobdeck.demo.app import db, deck
from jobdeck.demo.guide_sql import BY_KEY
from jobdeck.demo.signin import HostUser, check_form, signed_in, small_form
from jobdeck.demo.views import LITIGATION_JOBS, render, tips
from jobdeck.errors import ConfigError

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[HostUser, Depends(signed_in)]


@router.get("/help", response_class=HTMLResponse)
def help_index(request: Request, user: SignedIn) -> Response:
    return render(request, "help_index.html", nav="help")


@router.get("/help/background-jobs", response_class=HTMLResponse)
def background_jobs_guide(request: Request, user: SignedIn) -> Response:
    statuses = {s.name: s for s in schedule_statuses(deck)}
    return render(
        request,
        "help_background_jobs.html",
        nav="help",
        jobs=[statuses[name] for name in LITIGATION_JOBS if name in statuses],
        tips=tips(),
        sql=BY_KEY,
        dialect=db().dialect,
    )


@router.get("/help/job-monitoring", response_class=HTMLResponse)
def job_monitoring_guide(request: Request, user: SignedIn) -> Response:
    heartbeat = deck.settings.heartbeat_interval
    return render(request, "help_job_monitoring.html", nav="help", heartbeat=heartbeat)


@router.get("/help/feedback", response_class=HTMLResponse)
def feedback_form(request: Request, user: SignedIn, sent: int = 0) -> Response:
    return _feedback_page(request, user, sent=bool(sent), error=None, message="", topic="")


def _feedback_page(
    request: Request,
    user: HostUser,
    *,
    sent: bool,
    error: str | None,
    message: str,
    topic: str,
    status: int = 200,
) -> Response:
    return render(
        request,
        "help_feedback.html",
        status_code=status,
        nav="help",
        topics=desk.FEEDBACK_TOPICS,
        sent=sent,
        error=error,
        message=message,
        topic=topic,
        received=desk.feedback() if user.can("admin") else None,
    )


@router.post("/help/feedback", response_class=HTMLResponse)
async def send_feedback(request: Request, user: SignedIn) -> Response:
    form = await small_form(request)
    await check_form(request, user, form)
    topic, message = form.get("topic", ""), form.get("message", "")
    try:
        await run_in_threadpool(
            desk.add_feedback, user.email, user.role, topic, message, deck.clock.now()
        )
    except ConfigError as exc:
        problem = str(exc)
        return await run_in_threadpool(
            lambda: _feedback_page(
                request, user, sent=False, error=problem, message=message, topic=topic, status=400
            )
        )
    return RedirectResponse("/help/feedback?sent=1", status_code=303)
