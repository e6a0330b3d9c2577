"""The Jobs page: health pill, period, stats cards, chart, breakdown, task list and drawer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jobdeck import control
from jobdeck.control.history import job_actions
from jobdeck.control.limits import waiting_because
from jobdeck.errors import ConfigError, JobDeckError, JobNotFound, SchemaError, StoreUnavailable
from jobdeck.states import JobState
from jobdeck.store.base import JobRow
from jobdeck.web.access import Operator, Principal, Viewer, actor_of, require
from jobdeck.web.live import live
from jobdeck.web.params import (
    MAX_TEXT,
    FormFields,
    RowId,
    day_end,
    day_start,
    deck_of,
    or_none,
    parse_day,
    parse_id,
    parse_text,
    reason_of,
)
from jobdeck.web.rendering import PageRoute, render, toast_header

if TYPE_CHECKING:
    from jobdeck.deck import Deck

router = APIRouter(include_in_schema=False, route_class=PageRoute)


STOP_POLLING = 286  # htmx's status for "stop polling this element"
STATUS_CHOICES = ("all", "success", "failed", "running", "pending", "cancelled")
FINGERPRINT = re.compile(r"[0-9a-f]{16}")


@dataclass
class ListParams:
    """The page's URL state: the period for the stats, the filters and cursor for the list."""

    period: str = control.DEFAULT_PERIOD
    task: str = ""
    q: str = ""  # the search box (control/search.py)
    status: str = "all"
    date_from: str = ""
    date_to: str = ""
    before: int | None = None
    after: int | None = None
    group: str = ""  # an error group's fingerprint (the Failures view links here)
    errors: list[str] = field(default_factory=list)

    def query(self) -> control.JobQuery:
        return control.JobQuery(
            task_text=self.task or None,
            status=None if self.status == "all" else self.status,
            date_from=_day_start(self.date_from),
            date_to=_day_end(self.date_to),
            search=self.q or None,
            error_group=self.group or None,
        )

    def url(self, **changes: Any) -> str:
        """This page's URL with some state changed (None or "" drops a key)."""
        state = {
            "period": self.period,
            "task": self.task,
            "q": self.q,
            "status": self.status,
            "from": self.date_from,
            "to": self.date_to,
            "before": self.before,
            "after": self.after,
            "group": self.group,
            **changes,
        }
        kept = {k: v for k, v in state.items() if v not in (None, "", "all")}
        if kept.get("period") == control.DEFAULT_PERIOD:
            kept.pop("period")
        return "jobs" + (f"?{urlencode(kept)}" if kept else "")


def read_params(request: Request) -> ListParams:
    """The page's state from its query, leniently: a bad value is dropped with a notice on
    the page (the list still shows), each parsed by its type in ``params``."""
    q = request.query_params
    params = ListParams()
    task = q.get("task", "").strip()[:MAX_TEXT]
    if or_none(parse_text, task) is not None:
        params.task = task
    else:
        params.errors.append("Ignored the task filter: it holds a NUL character.")
    search = q.get("q", "").strip()[: control.MAX_SEARCH]
    if or_none(parse_text, search) is not None:
        params.q = search
    else:
        params.errors.append("Ignored the search: it holds a NUL character.")
    period = q.get("period", control.DEFAULT_PERIOD)
    if period in control.PERIODS:
        params.period = period
    else:
        params.errors.append(f"Unknown period {period[:20]!r}; showing 24h.")
    status = q.get("status", "all").lower() or "all"
    if status in STATUS_CHOICES:
        params.status = status
    else:
        params.errors.append(f"Unknown status {status[:20]!r}; showing all.")
    for key, label in (("from", "From Date"), ("to", "To Date")):
        value = q.get(key, "")
        if value and or_none(parse_day, value) is None:
            params.errors.append(f"{label} must be a date like 2025-01-31; ignored.")
        elif value:
            setattr(params, "date_from" if key == "from" else "date_to", value)
    group = q.get("group", "").strip().lower()
    if group and FINGERPRINT.fullmatch(group):
        params.group = group
    elif group:
        params.errors.append(f"Ignored group={group[:20]!r}: not an error group's fingerprint.")
    for key in ("before", "after"):
        value = q.get(key, "")
        cursor = or_none(parse_id, value) if value else None
        if cursor is not None:
            setattr(params, key, cursor)
        elif value:
            params.errors.append(f"Ignored the page cursor {key}={value[:20]!r}.")
    return params


@router.get("/")
async def index(request: Request) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{root}/jobs", status_code=307)


# The handlers below are synchronous: FastAPI runs them in its threadpool, so the store calls
# and the template rendering never hold the event loop (which, mounted, is the host app's).


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, principal: Viewer) -> Response:
    deck, params = deck_of(request), read_params(request)
    context = {**_stats_context(deck, params), **table_context(deck, params)}
    drawer = None
    job = request.query_params.get("job", "")
    job_id = or_none(parse_id, job) if job else None
    if job_id is None and not job:
        job_id = _searched_job(deck, params)
    if job_id is not None:
        drawer = _drawer_context(deck, job_id, principal)
    elif job:
        params.errors.append(f"Ignored job={job[:20]!r}: not a job id.")
    page = render(request, "jobs.html", nav="jobs", params=params, drawer=drawer, **context)
    return live(request, page)


@router.get("/jobs/table", response_class=HTMLResponse)
def jobs_table(request: Request, principal: Viewer) -> Response:
    response = _fragment(request, "_job_table.html", table_context)
    # A search for a job id opens its drawer (not on live polls: it is open already).
    found = (
        None
        if request.query_params.get("live") == "1"
        else _searched_job(deck_of(request), read_params(request))
    )
    if found is not None:
        response.headers["HX-Trigger"] = json.dumps({"jobdeck:open-job": {"id": found}})
    return response


def _searched_job(deck: Deck, params: ListParams) -> int | None:
    if not params.q:
        return None
    return control.job_of_search(deck.store, params.query())


@router.get("/jobs/stats", response_class=HTMLResponse)
def jobs_stats(request: Request, principal: Viewer) -> Response:
    return _fragment(request, "_stats.html", _stats_context)


def _fragment(
    request: Request, template: str, context: Callable[[Deck, ListParams], dict[str, Any]]
) -> Response:
    """A part of the Jobs page for htmx; a change of filters (not a live poll) also moves the
    address bar, so the page can be bookmarked and reloaded as shown."""
    params = read_params(request)
    headers = {}
    if request.query_params.get("live") != "1":
        root = request.scope.get("root_path", "").rstrip("/")
        headers["HX-Push-Url"] = f"{root}/{params.url()}"
    return render(
        request, template, headers=headers, params=params, **context(deck_of(request), params)
    )


@router.get("/jobs/{job_id}/drawer", response_class=HTMLResponse)
def job_drawer(request: Request, job_id: RowId, principal: Viewer) -> Response:
    """The drawer, or with ``live=1`` its live part alone (204 when it has not changed)."""
    polled = request.query_params.get("live") == "1"
    try:
        drawer = _drawer_context(deck_of(request), job_id, principal)
    except JobNotFound:
        if not polled:
            raise
        # Pruned while the drawer was open: 286 tells htmx to stop polling, where an error
        # would toast every few seconds. The drawer keeps the last state it showed.
        return Response(status_code=STOP_POLLING)
    template = "_drawer_live.html" if polled else "_drawer.html"
    return live(request, render(request, template, drawer=drawer))


_DONE = {"retry": "queued to run again", "cancel": "cancelled"}


@router.post("/jobs/{job_id}/{action}", response_class=HTMLResponse)
def operate(
    request: Request,
    job_id: RowId,
    action: control.JobAction,
    principal: Operator,
    form: FormFields,
) -> Response:
    """Retry or Cancel from the drawer, with the operator's reason if one was typed:
    permission-checked, audited, re-rendered (live again: a retried job changes)."""
    deck = deck_of(request)
    actor = actor_of(request, principal)
    reason = reason_of(form)
    job = control.act_on_job(deck.store, deck.clock, action, job_id, actor, reason=reason)
    page = render(
        request,
        "_drawer.html",
        drawer=_drawer_context(deck, job_id, principal),
        headers={"HX-Trigger": toast_header(f"Job {job.id} {_DONE[action]}")},
    )
    return live(request, page)


async def _viewer_or_outage(request: Request) -> Principal | JobDeckError:
    """The pill's own check: an unreachable store is what the pill reports, not an error."""
    try:
        return await require(request, "view")
    except (StoreUnavailable, SchemaError) as exc:
        return exc


@router.get("/health", response_class=HTMLResponse)
def health_pill(
    request: Request, checked: Annotated[Principal | JobDeckError, Depends(_viewer_or_outage)]
) -> Response:
    deck = deck_of(request)
    try:
        if isinstance(checked, JobDeckError):
            raise checked
        health = control.worker_health(
            deck.store, deck.clock, deck.settings.heartbeat_interval, deck.settings.expected_workers
        )
    except (StoreUnavailable, SchemaError) as exc:
        # Red, with the reason, rather than an error the page would ignore: "the database
        # cannot be reached" is exactly what the pill is for. Details (a path, a host) only
        # for someone already identified.
        known = getattr(request.state, "principal", None) is not None
        reason = f"database unreachable: {exc}" if known else "database unreachable"
        health = control.Health.down(reason)
    return render(
        request,
        "_health.html",
        health=health,
        now=deck.clock.now(),
        expected_workers=deck.settings.expected_workers,
        skew_warning_ms=deck.settings.clock_skew_warning * 1000,
    )


# -- view models ---------------------------------------------------------------------------------


def _stats_context(deck: Deck, params: ListParams) -> dict[str, Any]:
    stats = control.stats(deck.store, deck.clock, params.period)
    chart = {
        "bucket": stats.bucket_seconds,
        "x": [int(datetime.fromisoformat(r.key).timestamp()) for r in stats.series],
        "success": [r.succeeded for r in stats.series],
        "failed": [r.failed for r in stats.series],
    }
    return {
        "stats": stats,
        "chart_json": json.dumps(chart),
        "latency_json": json.dumps(_latency_chart(stats)),
        "periods": list(control.PERIODS),
    }


def _latency_chart(stats: control.Stats) -> dict[str, Any]:
    """The latency charts' series: per kind, p50/p95/p99 in ms per time bucket (None: none)."""
    points = stats.latency.series
    return {
        "bucket": stats.latency.bucket_seconds,
        "x": [int(p.start.timestamp()) for p in points],
        **{
            kind: {
                q: [getattr(getattr(p.latency, kind), q) for p in points]
                for q in ("p50", "p95", "p99")
            }
            for kind in ("wait", "duration")
        },
    }


def table_context(deck: Deck, params: ListParams) -> dict[str, Any]:
    redact = deck.settings.redact
    query, search_error = params.query(), None
    try:
        control.parse_search(query.search, redact)
    except ConfigError as exc:
        # The rest of the filters still apply; the table says what was wrong with the search.
        query, search_error = replace(query, search=None), f"Search ignored: {exc}."
    page = control.list_jobs(deck.store, query, params.before, after_id=params.after, redact=redact)
    counts = control.status_counts(deck.store, query, redact=redact)
    now = deck.clock.now()
    rows = [(job, _may_be_stuck(deck, job, now)) for job in page.rows]
    return {
        "page": page,
        "rows": rows,
        "status_choices": STATUS_CHOICES,
        "now": now,
        "counts": counts,
        "count_cap": control.count_cap(query),
        "search_indexed": control.reaches_every_job(query.search),
        "search_error": search_error,
        "searching": bool(query.search),
        "search_window": control.SEARCH_WINDOW,
        # The running rows' progress bars: one read, only when the page shows a running job.
        "progress": control.running_progress(deck.store, page.rows),
    }


def _may_be_stuck(deck: Deck, job: JobRow, now: datetime) -> bool:
    if job.state != JobState.RUNNING or job.started_at is None:
        return False
    task = deck.tasks.get(job.task)
    expected = task.expected_duration if task else deck.settings.expected_duration
    return now - job.started_at > timedelta(seconds=expected)


def _drawer_context(deck: Deck, job_id: int, principal: Principal) -> dict[str, Any]:
    detail = control.job_detail(deck.store, job_id, redact=deck.settings.redact)
    job = detail.job
    latest = detail.attempts[-1] if detail.attempts else None
    # Who retried, cancelled or ran it and why: the audit trail of this job, for those who may
    # read logs. Only the audit page shows everyone's sign-ins and account changes (admins).
    actions = job_actions(deck.store, job) if principal.can("logs") else None
    return {
        # A job in a final state changes only if someone retries it: the drawer stops polling,
        # and the Retry button's answer (the drawer again) starts it when the job is pending.
        "polling": not job.state.is_final,
        "actions": actions,
        "job": job,
        "attempts": detail.attempts,
        "latest": latest,
        "stuck": _may_be_stuck(deck, job, deck.clock.now()),
        "waiting_because": detail.waiting_for() or waiting_because(deck, job, deck.clock.now()),
        "can_retry": job.state in (JobState.FAILED, JobState.RETRYABLE, JobState.CANCELLED),
        "can_cancel": control.can_cancel(job),
        # What the task reported in the attempt running now (or the last one), and per attempt.
        "progress": detail.progress_of(job.attempt),
        "log_lines": detail.lines_of(job.attempt),
        "detail": detail,
    }


def _day_start(value: str) -> datetime | None:
    return day_start(parse_day(value)) if value else None


def _day_end(value: str) -> datetime | None:
    return day_end(parse_day(value)) if value else None
