"""The Queues and Workers pages: each queue's backlog, latency and period counts with pause
and resume; each worker process with the jobs it runs, and drain-and-stop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck.control import fleet as fleet_control
from jobdeck.control.stats import DEFAULT_PERIOD, PERIODS
from jobdeck.web.access import Operator, Principal, Viewer, actor_of
from jobdeck.web.params import FormFields, ScheduleName, deck_of, reason_of
from jobdeck.web.rendering import PageRoute, render, toast_header

if TYPE_CHECKING:
    from jobdeck.deck import Deck

router = APIRouter(include_in_schema=False, route_class=PageRoute)

# Any name in one path segment (the schedules' type: no NUL, bounded length).
PathName = ScheduleName

# Synchronous handlers: FastAPI runs them in its threadpool, so the store and the templates
# never hold the event loop. Names are ``{name:path}``: a name with a slash arrives as %2F.


@router.get("/queues", response_class=HTMLResponse)
def queues_page(request: Request, principal: Viewer) -> Response:
    period, errors = _period(request)
    return _render(request, "queues.html", nav="queues", errors=errors, **_queues(request, period))


@router.get("/queues/table", response_class=HTMLResponse)
def queues_table(request: Request, principal: Viewer) -> Response:
    period, _ = _period(request)
    return _render(request, "_queue_table.html", **_queues(request, period))


@router.post("/queues/{name:path}/pause", response_class=HTMLResponse)
def pause_queue(
    request: Request, name: PathName, principal: Operator, form: FormFields
) -> Response:
    return _set_paused(request, principal, name, True, reason_of(form))


@router.post("/queues/{name:path}/resume", response_class=HTMLResponse)
def resume_queue(
    request: Request, name: PathName, principal: Operator, form: FormFields
) -> Response:
    return _set_paused(request, principal, name, False, reason_of(form))


@router.get("/workers", response_class=HTMLResponse)
def workers_page(request: Request, principal: Viewer) -> Response:
    return _render(request, "workers.html", nav="workers", **_workers(request))


@router.get("/workers/table", response_class=HTMLResponse)
def workers_table(request: Request, principal: Viewer) -> Response:
    return _render(request, "_worker_table.html", **_workers(request))


@router.post("/workers/{worker_id:path}/stop", response_class=HTMLResponse)
def stop_worker(
    request: Request, worker_id: PathName, principal: Operator, form: FormFields
) -> Response:
    deck = deck_of(request)
    actor, reason = actor_of(request, principal), reason_of(form)
    fleet_control.stop_worker(deck, worker_id, actor, reason=reason)
    toast = toast_header(f"{worker_id[:80]}: asked to drain and stop{_when_heard(deck)}")
    return _render(
        request, "_worker_table.html", headers={"HX-Trigger": toast}, **_workers(request)
    )


def _when_heard(deck: Deck) -> str:
    """When workers follow an order: PostgreSQL pushes it, SQLite's read it at their beat."""
    return "" if deck.store.remote else " at their next heartbeat"


# -- view models ---------------------------------------------------------------------------------


def _set_paused(
    request: Request, principal: Principal, name: str, paused: bool, reason: str | None
) -> Response:
    deck, actor = deck_of(request), actor_of(request, principal)
    act = fleet_control.pause_queue if paused else fleet_control.resume_queue
    changed = act(deck, name, actor, reason=reason)
    shown = name.strip()[:80]
    if paused:
        message = f"{shown} paused: workers stop claiming from it{_when_heard(deck)}"
    else:
        message = f"{shown} resumed"
    if not changed:
        message = f"{shown} was already {'paused' if paused else 'running'}"
    period, _ = _period(request)
    headers = {"HX-Trigger": toast_header(message, "info" if changed else "warn")}
    return _render(request, "_queue_table.html", headers=headers, **_queues(request, period))


def _period(request: Request) -> tuple[str, list[str]]:
    period = request.query_params.get("period", DEFAULT_PERIOD)
    if period in PERIODS:
        return period, []
    return DEFAULT_PERIOD, [f"Unknown period {period[:20]!r}; showing {DEFAULT_PERIOD}."]


def _queues(request: Request, period: str) -> dict[str, Any]:
    deck = deck_of(request)
    overview = fleet_control.queues_overview(deck, period)
    return {"overview": overview, "periods": list(PERIODS), "period": period}


def _workers(request: Request) -> dict[str, Any]:
    deck = deck_of(request)
    return {
        "workers": fleet_control.workers_overview(deck),
        "now": deck.clock.now(),
        "skew_warning_ms": deck.settings.clock_skew_warning * 1000,
    }


def fleet_path(kind: str, name: str) -> str:
    """``queues/<name>`` or ``workers/<id>`` with the name percent-encoded as one segment."""
    return f"{kind}/{quote(name, safe='')}"


def _render(request: Request, template: str, **context: Any) -> Response:
    return render(request, template, fleet_path=fleet_path, **context)
