"""The Failures view: error groups of a period with their counts, sparklines and samples; a
group opens to its jobs (the Jobs page's ``group=`` filter); Retry all and Mute act on one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck import control
from jobdeck.web.access import Operator, Viewer, actor_of
from jobdeck.web.params import deck_of
from jobdeck.web.rendering import PageRoute, render, toast_header

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SPARK_WIDTH = 120
SPARK_HEIGHT = 24


@dataclass
class FailureParams:
    """The view's URL state: the period and whether muted groups show."""

    period: str = control.DEFAULT_PERIOD
    muted: bool = False
    errors: list[str] = field(default_factory=list)

    def url(self, **changes: Any) -> str:
        state = {"period": self.period, "muted": "1" if self.muted else "", **changes}
        kept = {k: v for k, v in state.items() if v not in (None, "")}
        if kept.get("period") == control.DEFAULT_PERIOD:
            kept.pop("period")
        return "failures" + (f"?{urlencode(kept)}" if kept else "")


def read_params(request: Request) -> FailureParams:
    """Leniently, as the Jobs page reads its own: a bad value is dropped with a notice."""
    q = request.query_params
    params = FailureParams(muted=q.get("muted", "") in ("1", "true", "on"))
    period = q.get("period", control.DEFAULT_PERIOD)
    if period in control.PERIODS:
        params.period = period
    else:
        params.errors.append(f"Unknown period {period[:20]!r}; showing 24h.")
    return params


@router.get("/failures", response_class=HTMLResponse)
def failures_page(request: Request, principal: Viewer) -> Response:
    params = read_params(request)
    context = _groups_context(request, params)
    return render(request, "failures.html", nav="failures", params=params, **context)


@router.get("/failures/groups", response_class=HTMLResponse)
def failure_groups(request: Request, principal: Viewer) -> Response:
    params = read_params(request)
    root = request.scope.get("root_path", "").rstrip("/")
    headers = (
        {}
        if request.query_params.get("live") == "1"
        else {"HX-Push-Url": root + "/" + params.url()}
    )
    return render(
        request,
        "_failure_groups.html",
        headers=headers,
        params=params,
        **_groups_context(request, params),
    )


@router.get("/failures/{fingerprint}/retry", response_class=HTMLResponse)
def confirm_retry(request: Request, fingerprint: str, principal: Operator) -> Response:
    """The confirmation, with the number of jobs a retry would touch counted now."""
    store = deck_of(request).store
    group = control.error_group(store, fingerprint)
    count = control.retryable_in_group(store, fingerprint)
    return render(request, "_failure_confirm.html", group=group, count=count)


@router.post("/failures/{fingerprint}/retry", response_class=HTMLResponse)
def retry_group(request: Request, fingerprint: str, principal: Operator) -> Response:
    deck = deck_of(request)
    actor = actor_of(request, principal)
    retried = control.retry_error_group(deck.store, deck.clock, fingerprint, actor)
    message = f"{retried:,} job{'' if retried == 1 else 's'} of this group queued to run again"
    return render(
        request,
        "_failure_done.html",
        message=message,
        headers={"HX-Trigger": toast_header(message)},
    )


@router.post("/failures/{fingerprint}/mute", response_class=HTMLResponse)
def mute_group(request: Request, fingerprint: str, principal: Operator) -> Response:
    return _set_muted(request, fingerprint, principal, muted=True)


@router.post("/failures/{fingerprint}/unmute", response_class=HTMLResponse)
def unmute_group(request: Request, fingerprint: str, principal: Operator) -> Response:
    return _set_muted(request, fingerprint, principal, muted=False)


def _set_muted(request: Request, fingerprint: str, principal: Any, *, muted: bool) -> Response:
    """Mute or unmute, then the list again as the page shows it (a muted group leaves it
    unless muted groups are shown)."""
    deck = deck_of(request)
    actor = actor_of(request, principal)
    control.mute_error_group(deck.store, deck.clock, fingerprint, actor, muted=muted)
    params = read_params(request)
    message = "Group muted: hidden here and not alerted on" if muted else "Group unmuted"
    return render(
        request,
        "_failure_groups.html",
        headers={"HX-Trigger": toast_header(message)},
        params=params,
        **_groups_context(request, params),
    )


# -- view models ---------------------------------------------------------------------------------


def _groups_context(request: Request, params: FailureParams) -> dict[str, Any]:
    deck = deck_of(request)
    found = control.failures(deck.store, deck.clock, params.period, include_muted=params.muted)
    groups = [
        {
            "group": summary.group,
            "spark": sparkline(summary.sparkline),
            "jobs_url": "jobs?" + urlencode({"group": summary.group.fingerprint}),
        }
        for summary in found.groups
    ]
    return {"failures": found, "groups": groups, "periods": list(control.PERIODS)}


def sparkline(counts: list[int]) -> dict[str, Any]:
    """An inline SVG polyline of ``counts`` (no chart library for a thumbnail)."""
    peak = max(counts, default=0)
    if len(counts) < 2:
        counts = [*counts, *counts] or [0, 0]
    step = SPARK_WIDTH / (len(counts) - 1)
    points = " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 1 - (c / peak * (SPARK_HEIGHT - 2) if peak else 0):.1f}"
        for i, c in enumerate(counts)
    )
    return {"points": points, "width": SPARK_WIDTH, "height": SPARK_HEIGHT, "peak": peak}
