"""Jinja filters and view helpers: badges, durations, times and JSON for people."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment

from jobdeck.durations import format_duration
from jobdeck.schedule_spec import humanize_ago, humanize_until
from jobdeck.states import JobState
from jobdeck.store.base import JobRow

NONE_SHOWN = "\u2013"  # an en dash for "no value"

BADGE_CLASSES = {
    "Pending": "pending",
    "Running": "running",
    "Success": "success",
    "Failed": "failed",
    "Failed · retrying": "retrying",
    "Cancelled": "cancelled",
}


def job_badge(job: JobRow) -> str:
    return JobState(job.state).badge


def badge_class(label: str) -> str:
    return BADGE_CLASSES.get(label, "pending")


def duration_ms(value: int | None) -> str:
    if value is None:
        return NONE_SHOWN
    if value < 1000:
        return f"{value} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return format_duration(timedelta(milliseconds=value - value % 1000))


def iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def clock_time(moment: datetime | None) -> str:
    """Server-side fallback text; the page's script shows it in the reader's time zone."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else NONE_SHOWN


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def span(delta: timedelta | None) -> str:
    return format_duration(delta) if delta is not None else NONE_SHOWN


def install_filters(env: Environment) -> None:
    env.filters.update(
        duration_ms=duration_ms,
        iso=iso,
        clock_time=clock_time,
        pretty_json=pretty_json,
        badge_class=badge_class,
        span=span,
    )
    env.globals.update(
        job_badge=job_badge, humanize_ago=humanize_ago, humanize_until=humanize_until
    )
