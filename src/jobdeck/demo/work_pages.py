"""The litigation desk's own pages: Home, Tasks (what the SLA check found, Scenario 1) and
Analytics (the nightly snapshots over time, Scenario 3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from jobdeck.control.schedules import recent_runs, schedule_statuses
from jobdeck.demo import desk
from jobdeck.demo.app import db, deck
from jobdeck.demo.signin import HostUser, check_form, signed_in, small_form
from jobdeck.demo.views import litigation_statuses, render, tips
from jobdeck.errors import ConfigError
from jobdeck.schedules import ScheduleStatus
from jobdeck.states import JobState
from jobdeck.store.base import JobRow

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[HostUser, Depends(signed_in)]
ANALYTICS_DAYS = (7, 14, 30)


def _status(name: str) -> ScheduleStatus | None:
    found = schedule_statuses(deck, name)
    return found[0] if found else None


def _last_success(name: str) -> JobRow | None:
    """The schedule's last successful run: what the SLA check found, and when."""
    for job in recent_runs(deck, name, 10):
        if job.state == JobState.SUCCEEDED and isinstance(job.result, dict):
            return job
    return None


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: SignedIn) -> Response:
    now = deck.clock.now()
    statuses = litigation_statuses()
    return render(
        request,
        "home.html",
        nav="home",
        counts=desk.counts(now),
        hearings=desk.hearings(now, 48),
        statuses=statuses,
        tips=tips(),
    )


@router.get("/tasks", response_class=HTMLResponse)
def task_list(request: Request, user: SignedIn, show: str = "open", saved: int = 0) -> Response:
    view = show if show in desk.TASK_VIEWS else "open"
    now = deck.clock.now()
    return render(
        request,
        "tasks.html",
        nav="tasks",
        view=view,
        views=desk.TASK_VIEWS,
        tasks=[{**t, **_due(t, now)} for t in desk.tasks(view, now)],
        overdue_now=desk.counts(now)["overdue_tasks"],
        sla=_status("check-sla-and-overdue"),
        sla_run=_last_success("check-sla-and-overdue"),
        saved=desk.task(saved) if saved else None,
        now=now,
        tips=tips(),
    )


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, user: SignedIn, task_id: int) -> Response:
    return _task_form(request, task_id, error=None)


def _task_form(request: Request, task_id: int, error: str | None, status: int = 200) -> Response:
    found = desk.task(task_id)
    if found is None:
        message = f"There is no task {task_id}."
        return render(
            request, "message.html", status_code=404, title="No such task", message=message
        )
    return render(
        request,
        "task.html",
        status_code=status,
        nav="tasks",
        task=found,
        due_value=_due_value(found["due_at"]),
        people=desk.people(),
        reasons=desk.DELAY_REASONS,
        escalations=desk.escalations(task_id),
        notes=desk.notes(task_id),
        now=deck.clock.now(),
        error=error,
    )


@router.post("/tasks/{task_id}", response_class=HTMLResponse)
async def save_task(request: Request, user: SignedIn, task_id: int) -> Response:
    form = await small_form(request)
    await check_form(request, user, form)
    try:
        change = desk.TaskChange(
            assigned_to=int(form["assigned_to"]) if form.get("assigned_to") else None,
            due_at=_parse_due(form.get("due_at", "")),
            status=form.get("status", "open"),
            reason=form.get("reason", ""),
            note=form.get("note", ""),
        )
        await run_in_threadpool(desk.update_task, task_id, change, user.email, deck.clock.now())
    except (ConfigError, ValueError) as exc:
        return await run_in_threadpool(_task_form, request, task_id, str(exc), 400)
    back = form.get("back", "overdue")
    view = back if back in desk.TASK_VIEWS else "open"
    return RedirectResponse(f"/tasks?show={view}&saved={task_id}", status_code=303)


def _due(task: dict[str, object], now: datetime) -> dict[str, str]:
    """How the due date reads beside the task: overdue by 2 days, due in 5 hours, done."""
    if task["status"] == "done":
        return {"due_state": "done", "due_words": "done"}
    due = db().time(task["due_at"])
    if due is None:
        return {"due_state": "ok", "due_words": "no due date"}
    if due < now:
        return {"due_state": "late", "due_words": f"overdue by {_amount(now - due)}"}
    state = "soon" if due - now <= timedelta(days=3) else "ok"
    return {"due_state": state, "due_words": f"due in {_amount(due - now)}"}


def _amount(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, int(delta.total_seconds() // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _due_value(value: object) -> str:
    """A stored due time as the datetime-local input wants it, in UTC."""
    moment = db().time(value)
    return f"{moment:%Y-%m-%dT%H:%M}" if moment else ""


def _parse_due(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
    except ValueError:
        raise ConfigError("give the due date and time as on the form (UTC)") from None


@router.get("/analytics", response_class=HTMLResponse)
def analytics(request: Request, user: SignedIn, tenant: str = "", days: int = 14) -> Response:
    tenants = desk.tenants()
    ids = [t["id"] for t in tenants]
    chosen = tenant if tenant in ids else (ids[0] if ids else "")
    span = days if days in ANALYTICS_DAYS else 14
    now = deck.clock.now()
    series = desk.snapshots(chosen, now.date(), span)
    return render(
        request,
        "analytics.html",
        nav="analytics",
        tenants=tenants,
        tenant=chosen,
        tenant_name=next((t["name"] for t in tenants if t["id"] == chosen), chosen),
        days=span,
        day_choices=ANALYTICS_DAYS,
        series=series,
        chart=json.dumps(series.chart()),
        metrics=desk.METRICS,
        today=now.date(),
        active_now=desk.active_cases(chosen),
        job=_status("capture-analytics-snapshot"),
        tips=tips(),
    )
