"""The Jobs page: health pill, period, stats cards, chart, breakdown, task list and drawer."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jobdeck import control
from jobdeck.errors import SchemaError, StoreUnavailable
from jobdeck.states import JobState
from jobdeck.store.base import JobRow
from jobdeck.web.access import require
from jobdeck.web.app import render, toast_header
from jobdeck.web.operations import JobAction, operate_on_job
from jobdeck.web.params import MAX_ID, RowId, deck_of

if TYPE_CHECKING:
    from jobdeck.app import JobDeck

router = APIRouter(include_in_schema=False)


STATUS_CHOICES = ("all", "success", "failed", "running", "pending", "cancelled")


@dataclass
class ListParams:
    """The page's URL state: the period for the stats, the filters and cursor for the list."""

    period: str = control.DEFAULT_PERIOD
    task: str = ""
    status: str = "all"
    date_from: str = ""
    date_to: str = ""
    before: int | None = None
    after: int | None = None
    errors: list[str] = field(default_factory=list)

    def query(self) -> control.JobQuery:
        return control.JobQuery(
            task_text=self.task or None,
            status=None if self.status == "all" else self.status,
            date_from=_day_start(self.date_from),
            date_to=_day_end(self.date_to),
        )

    def url(self, **changes: Any) -> str:
        """This page's URL with some state changed (None or "" drops a key)."""
        state = {
            "period": self.period,
            "task": self.task,
            "status": self.status,
            "from": self.date_from,
            "to": self.date_to,
            "before": self.before,
            "after": self.after,
            **changes,
        }
        kept = {k: v for k, v in state.items() if v not in (None, "", "all")}
        if kept.get("period") == control.DEFAULT_PERIOD:
            kept.pop("period")
        return "jobs" + (f"?{urlencode(kept)}" if kept else "")


def read_params(request: Request) -> ListParams:
    q = request.query_params
    params = ListParams(task=q.get("task", "").strip()[:200])
    period = q.get("period", control.DEFAULT_PERIOD)
    if period in control.PERIODS:
        params.period = period
    else:
        params.errors.append(f"Unknown period {period!r}; showing 24h.")
    status = q.get("status", "all").lower() or "all"
    if status in STATUS_CHOICES:
        params.status = status
    else:
        params.errors.append(f"Unknown status {status!r}; showing all.")
    for key, label in (("from", "From Date"), ("to", "To Date")):
        value = q.get(key, "")
        if value and _parse_day(value) is None:
            params.errors.append(f"{label} must be a date like 2025-01-31; ignored.")
        elif value:
            setattr(params, "date_from" if key == "from" else "date_to", value)
    for key in ("before", "after"):
        value = q.get(key, "")
        if value.isdigit() and 0 < int(value) <= MAX_ID:
            setattr(params, key, int(value))
        elif value:
            params.errors.append(f"Ignored the page cursor {key}={value[:20]!r}.")
    return params


@router.get("/")
async def index(request: Request) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{root}/jobs", status_code=307)


@router.get("/jobs", response_class=HTMLResponse)
async def jobs_page(request: Request) -> Response:
    await require(request, "view")
    deck, params = deck_of(request), read_params(request)
    context = {**_stats_context(deck, params), **_table_context(deck, params)}
    drawer = None
    job_id = request.query_params.get("job", "")
    if job_id.isdigit():
        drawer = _drawer_context(deck, int(job_id))
    return render(request, "jobs.html", nav="jobs", params=params, drawer=drawer, **context)


@router.get("/jobs/table", response_class=HTMLResponse)
async def jobs_table(request: Request) -> Response:
    return await _fragment(request, "_job_table.html", _table_context)


@router.get("/jobs/stats", response_class=HTMLResponse)
async def jobs_stats(request: Request) -> Response:
    return await _fragment(request, "_stats.html", _stats_context)


async def _fragment(
    request: Request, template: str, context: Callable[[JobDeck, ListParams], dict[str, Any]]
) -> Response:
    """A part of the Jobs page for htmx; a change of filters (not a live poll) also moves the
    address bar, so the page can be bookmarked and reloaded as shown."""
    await require(request, "view")
    params = read_params(request)
    headers = {}
    if request.query_params.get("live") != "1":
        root = request.scope.get("root_path", "").rstrip("/")
        headers["HX-Push-Url"] = f"{root}/{params.url()}"
    return render(
        request, template, headers=headers, params=params, **context(deck_of(request), params)
    )


@router.get("/jobs/{job_id}/drawer", response_class=HTMLResponse)
async def job_drawer(request: Request, job_id: RowId) -> Response:
    await require(request, "view")
    return render(request, "_drawer.html", drawer=_drawer_context(deck_of(request), job_id))


_DONE = {"retry": "queued to run again", "cancel": "cancelled"}


@router.post("/jobs/{job_id}/{action}", response_class=HTMLResponse)
async def operate(request: Request, job_id: RowId, action: JobAction) -> Response:
    """Retry or Cancel from the drawer: permission-checked, audited, re-rendered."""
    principal = await require(request, "operate")
    job = operate_on_job(request, principal, action, job_id, via="dashboard")
    return render(
        request,
        "_drawer.html",
        drawer=_drawer_context(deck_of(request), job_id),
        headers={"HX-Trigger": toast_header(f"Job {job.id} {_DONE[action]}")},
    )


@router.get("/health", response_class=HTMLResponse)
async def health_pill(request: Request) -> Response:
    deck = deck_of(request)
    try:
        await require(request, "view")
        health = control.worker_health(deck.store, deck.clock, deck.settings.heartbeat_interval)
    except (StoreUnavailable, SchemaError) as exc:
        # Red, with the reason, rather than an error the page would ignore: "the database
        # cannot be reached" is exactly what the pill is for. Details (a path, a host) only
        # for someone already identified.
        known = getattr(request.state, "principal", None) is not None
        reason = f"database unreachable: {exc}" if known else "database unreachable"
        health = control.Health(False, reason, None, [])
    return render(request, "_health.html", health=health, now=deck.clock.now())


# -- view models ---------------------------------------------------------------------------------


def _stats_context(deck: JobDeck, params: ListParams) -> dict[str, Any]:
    stats = control.stats(deck.store, deck.clock, params.period)
    chart = {
        "bucket": stats.bucket_seconds,
        "x": [int(datetime.fromisoformat(r.key).timestamp()) for r in stats.series],
        "success": [r.succeeded for r in stats.series],
        "failed": [r.failed for r in stats.series],
    }
    return {"stats": stats, "chart_json": json.dumps(chart), "periods": list(control.PERIODS)}


def _table_context(deck: JobDeck, params: ListParams) -> dict[str, Any]:
    page = control.list_jobs(deck.store, params.query(), params.before, after_id=params.after)
    now = deck.clock.now()
    rows = [(job, _may_be_stuck(deck, job, now)) for job in page.rows]
    return {"page": page, "rows": rows, "status_choices": STATUS_CHOICES, "now": now}


def _may_be_stuck(deck: JobDeck, job: JobRow, now: datetime) -> bool:
    if job.state != JobState.RUNNING or job.started_at is None:
        return False
    task = deck.tasks.get(job.task)
    expected = task.expected_duration if task else deck.settings.expected_duration
    return now - job.started_at > timedelta(seconds=expected)


def _drawer_context(deck: JobDeck, job_id: RowId) -> dict[str, Any]:
    detail = control.job_detail(deck.store, job_id)
    job = detail.job
    latest = detail.attempts[-1] if detail.attempts else None
    return {
        "job": job,
        "attempts": detail.attempts,
        "latest": latest,
        "stuck": _may_be_stuck(deck, job, deck.clock.now()),
        "can_retry": job.state in (JobState.FAILED, JobState.RETRYABLE, JobState.CANCELLED),
        "can_cancel": job.state in (JobState.SCHEDULED, JobState.AVAILABLE, JobState.RETRYABLE),
    }


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _day_start(value: str) -> datetime | None:
    day = _parse_day(value) if value else None
    return datetime.combine(day, time.min, UTC) if day else None


def _day_end(value: str) -> datetime | None:
    day = _parse_day(value) if value else None
    return datetime.combine(day, time.max, UTC) if day else None
