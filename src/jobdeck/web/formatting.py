"""Jinja filters and view helpers: badges, durations, times and JSON for people."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from jinja2 import Environment

from jobdeck.durations import format_duration
from jobdeck.jsonvalues import Preview, preview
from jobdeck.schedules.spec import humanize_ago, humanize_until
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
    "Waiting": "waiting",
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


def ms_value(value: float | None) -> str:
    """A percentile in ms, shown as a duration: under 1 ms it keeps a decimal."""
    if value is None:
        return NONE_SHOWN
    if value < 1:
        return f"{value:.1f} ms"
    return duration_ms(round(value))


def iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def clock_time(moment: datetime | None) -> str:
    """Server-side fallback text; the page's script shows it in the reader's time zone."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else NONE_SHOWN


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def json_preview(value: Any) -> Preview:
    """Arguments or a result for the drawer: whole when small, else shortened (``truncated``),
    so that no page grows with a job's payload; the template links to the whole job."""
    return preview(value)


def clip(text: Any, limit: int = 200, keep: str = "start") -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out; ``keep="ends"``
    keeps its first quarter and last three quarters (a traceback: where it began, and the
    last frames with the exception).

    >>> clip("abcdef", 3)
    'abc… (+3 characters)'
    >>> clip("abcdefgh", 4, keep="ends")
    'a … (4 characters left out) … fgh'
    """
    shown = "" if text is None else str(text)
    if len(shown) <= limit:
        return shown
    left_out = len(shown) - limit
    if keep == "ends":
        head = limit // 4
        return f"{shown[:head]} … ({left_out:,} characters left out) … {shown[head - limit :]}"
    return f"{shown[:limit]}… (+{left_out:,} characters)"


def is_clipped(text: Any, limit: int = 200) -> bool:
    return text is not None and len(str(text)) > limit


def first_items(mapping: Mapping[Any, Any], limit: int) -> list[tuple[Any, Any]]:
    """The first ``limit`` entries: rows from before the label limits may hold thousands."""
    return list(islice(mapping.items(), limit))


def span(delta: timedelta | None) -> str:
    return format_duration(delta) if delta is not None else NONE_SHOWN


def install_filters(env: Environment) -> None:
    env.filters.update(
        duration_ms=duration_ms,
        ms_value=ms_value,
        iso=iso,
        clock_time=clock_time,
        pretty_json=pretty_json,
        json_preview=json_preview,
        clip=clip,
        is_clipped=is_clipped,
        first_items=first_items,
        badge_class=badge_class,
        span=span,
    )
    env.globals.update(
        job_badge=job_badge, humanize_ago=humanize_ago, humanize_until=humanize_until
    )
