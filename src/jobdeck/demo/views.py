"""What every host page shares: its templates, ``render``, and the job tips (the guide's
"hover over the i icon next to job names for quick tips")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from jobdeck.control.schedules import schedule_statuses
from jobdeck.demo.app import db, deck
from jobdeck.demo.signin import user_of
from jobdeck.durations import format_duration
from jobdeck.schedules import ScheduleStatus
from jobdeck.schedules.spec import humanize_ago

HERE = Path(__file__).parent
JOBS = "/dev/jobs"  # where the jobdeck dashboard is mounted: Dev Dashboard -> Background Jobs
LITIGATION_JOBS = (
    "check-sla-and-overdue",
    "send-hearing-reminders",
    "capture-analytics-snapshot",
    "send-deadline-alerts",
    "automation-health-check",
)

# What the job does in this application and where its results show, beside the schedule's own
# description and thresholds (which come from the deck, so a tip never disagrees with a card).
QUICK_TIPS = {
    "check-sla-and-overdue": "Finds open tasks past their due date and active cases past "
    "their SLA hours, and escalates by the automation rules. The overdue tasks it found are "
    "on the Tasks page.",
    "send-hearing-reminders": "Emails the case owner and the assignee of every hearing in "
    "the next 24 hours. Someone with neither email nor phone counts as a failed "
    "notification; the emails are on the Sent mail page.",
    "capture-analytics-snapshot": "Writes each tenant's active cases, open tasks and "
    "hearings in the next 7 days, one row per metric per day (a re-run replaces that day's "
    "rows). The Analytics page charts them.",
    "send-deadline-alerts": "Sends an in-app alert to the assignee of every open task due "
    "within 3 days.",
    "automation-health-check": "Counts the active automation rules that escalated nothing "
    "in the last 7 days.",
    "check_trial_reminders": "Emails experts whose free trial ends within 24 hours.",
    "process_trial_expirations": "Ends the trials whose time is up.",
}


@dataclass(frozen=True)
class JobTip:
    name: str
    title: str
    text: str


def job_tip(status: ScheduleStatus) -> JobTip:
    parts = [status.description.rstrip(".") + "." if status.description else ""]
    parts.append(QUICK_TIPS.get(status.name, ""))
    parts.append(f"Runs {status.frequency[:1].lower()}{status.frequency[1:]}.")
    if status.expected_max_age:
        parts.append(f"Expected to run at least every {words(status.expected_max_age)};")
    if status.alert_after:
        parts.append(f"worry if its last success is older than {words(status.alert_after)}.")
    return JobTip(status.name, status.title, " ".join(p for p in parts if p))


def litigation_statuses() -> list[ScheduleStatus]:
    """The five scheduled jobs of the guide, in the guide's order."""
    found = {s.name: s for s in schedule_statuses(deck)}
    return [found[name] for name in LITIGATION_JOBS if name in found]


def tips() -> dict[str, JobTip]:
    return {s.name: job_tip(s) for s in schedule_statuses(deck)}


def words(delta: timedelta) -> str:
    """30 minutes, 36 hours: the guide's way of writing a threshold."""
    seconds = int(delta.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0 and not (unit == "day" and seconds < 172800):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return format_duration(delta)


def ago(moment: datetime | None) -> str:
    return humanize_ago(moment, deck.clock.now()) if moment else "never"


def when(value: Any) -> str:
    moment = db().time(value) if value is not None else None
    return f"{moment:%d %b %Y %H:%M} UTC" if moment else "\u2013"


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(ago=ago, when=when, words=words)
templates.env.globals.update(JOBS=JOBS)


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    user = user_of(request)
    context.setdefault("nav", "")
    return templates.TemplateResponse(
        request,
        template,
        {"user": user, "csrf_token": user.csrf_token if user else "", **context},
        status_code=status_code,
    )
