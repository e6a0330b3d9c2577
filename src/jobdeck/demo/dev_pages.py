"""Profile icon -> Dev Mode -> the Dev Dashboard: Overview (the guide's morning checklist,
worked out live), Data Seeding, Environment, Advanced Tools; its fifth tab, Background Jobs,
is the jobdeck dashboard mounted at ``/dev/jobs`` (see host.py)."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from jobdeck import accounts
from jobdeck._version import __version__
from jobdeck.control.schedules import recent_runs, run_now
from jobdeck.control.stats import stats
from jobdeck.demo import data, desk
from jobdeck.demo.app import SMTP_ENV, db, deck
from jobdeck.demo.guide_sql import BY_KEY, QUERIES, run_query
from jobdeck.demo.signin import HostUser, check_form, needs, small_form
from jobdeck.demo.views import JOBS, LITIGATION_JOBS, litigation_statuses, render, tips
from jobdeck.fleet import worker_health
from jobdeck.states import JobState
from jobdeck.web.access import client_ip

router = APIRouter(include_in_schema=False)
DEV_ONLY = "The Dev Dashboard is for the Admin and Partner roles."
Developer = Annotated[HostUser, Depends(needs("view", DEV_ONLY))]
Seeder = Annotated[HostUser, Depends(needs("admin", "Only admins can re-seed the demo data."))]
Reader = Annotated[
    HostUser, Depends(needs("logs", "Running the guide's queries needs the logs permission."))
]
Trigger = Annotated[HostUser, Depends(needs("trigger", "Run Now needs the Admin or Partner role."))]
VENDOR_MANIFEST = Path(__file__).parent.parent / "web" / "static" / "vendor" / "manifest.json"
PACKAGES = ("fastapi", "starlette", "uvicorn", "jinja2", "psycopg", "aiosmtpd", "pypdf")


@dataclass(frozen=True)
class Check:
    """One line of the guide's morning checklist, and whether it holds now."""

    label: str
    ok: bool
    detail: str


def _checklist() -> list[Check]:
    settings = deck.settings
    health = worker_health(
        deck.store, deck.clock, settings.heartbeat_interval, settings.expected_workers
    )
    statuses = litigation_statuses()
    failing = [s.title for s in statuses if s.status == "failed"]
    stale = [s.title for s in statuses if s.stale]
    since = deck.clock.now() - timedelta(hours=24)
    failed_runs = [
        s.title
        for s in statuses
        for job in recent_runs(deck, s.name, 10)
        if job.state == JobState.FAILED and job.finished_at and job.finished_at >= since
    ]
    return [
        Check("The worker is healthy", health.healthy, health.reason),
        Check(
            'All jobs show "Success" or "Pending"',
            not failing,
            f"failed: {', '.join(failing)}" if failing else f"{len(statuses)} jobs checked",
        ),
        Check(
            '"Last Run" times are within the expected ranges',
            not stale,
            f"not run recently: {', '.join(stale)}" if stale else "no job is past its alert time",
        ),
        Check(
            "No scheduled job failed overnight (last 24 hours)",
            not failed_runs,
            f"failed runs: {', '.join(sorted(set(failed_runs)))}"
            if failed_runs
            else "no failed run of the five jobs",
        ),
    ]


@router.get("/dev", response_class=HTMLResponse)
def overview(request: Request, user: Developer) -> Response:
    now = deck.clock.now()
    statuses = litigation_statuses()
    return render(
        request,
        "dev_overview.html",
        nav="dev",
        tab="overview",
        checks=_checklist(),
        day=stats(deck.store, deck.clock, "24h"),
        statuses=statuses,
        tips=tips(),
        counts=data.seeded_counts(db(), now),
        feedback_count=len(desk.feedback()) if user.can("admin") else None,
    )


@router.get("/dev/jobs", include_in_schema=False)
def background_jobs() -> Response:
    """The Background Jobs tab: the jobdeck dashboard's cards of the scheduled jobs."""
    return RedirectResponse(f"{JOBS}/schedules", status_code=307)


@router.get("/dev/seeding", response_class=HTMLResponse)
def seeding(request: Request, user: Developer, done: int = 0) -> Response:
    now = deck.clock.now()
    return render(
        request,
        "dev_seeding.html",
        nav="dev",
        tab="seeding",
        counts=data.seeded_counts(db(), now),
        done=bool(done),
    )


@router.post("/dev/seeding", response_class=HTMLResponse)
async def reseed(request: Request, user: Seeder) -> Response:
    await check_form(request, user)
    actor = accounts.Actor(user.email, user.role, client_ip(request), "demo")
    await run_in_threadpool(_reseed, actor)
    return RedirectResponse("/dev/seeding?done=1", status_code=303)


def _reseed(actor: accounts.Actor) -> None:
    counts = data.reseed(db(), deck.clock.now())
    accounts.audit(deck.store, deck.clock, actor, "demo_reseeded", "demo data", counts)


@router.get("/dev/environment", response_class=HTMLResponse)
def environment(request: Request, user: Developer) -> Response:
    settings = deck.settings
    rows = [
        (name, _shown(getattr(settings, name)), settings.source_of(name))
        for name in settings.option_names()
    ]
    return render(
        request,
        "dev_environment.html",
        nav="dev",
        tab="environment",
        versions=_versions(),
        database=_masked(deck.database_url or ""),
        dialect=db().dialect,
        smtp=_smtp_address(),
        settings=rows,
    )


def _versions() -> list[tuple[str, str]]:
    found = [
        ("jobdeck", __version__),
        ("Python", platform.python_version()),
        ("PostgreSQL" if db().dialect == "postgres" else "SQLite", db().server_version()),
    ]
    for package in PACKAGES:
        try:
            found.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            found.append((package, "not installed"))
    try:
        vendored = json.loads(VENDOR_MANIFEST.read_text())
        for name in ("htmx.min.js", "uPlot.iife.min.js"):
            found.append((f"{vendored[name]['package']} (vendored)", vendored[name]["version"]))
    except (OSError, KeyError, ValueError):
        found.append(("htmx and uPlot", "vendor files missing"))
    return found


def _smtp_address() -> str:
    return os.environ.get(SMTP_ENV, "not started")


def _masked(url: str) -> str:
    """A database or webhook URL without its password."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_masked(str(v)) for v in value) or "(none)"
    if isinstance(value, dict):
        return json.dumps(value) if value else "(none)"
    if value is None:
        return "(none)"
    return _masked(str(value)) if isinstance(value, str) else str(value)


@router.get("/dev/tools", response_class=HTMLResponse)
def tools(
    request: Request, user: Developer, query: str = "", tenant: str = "", queued: str = ""
) -> Response:
    chosen = BY_KEY.get(query)
    tenants = desk.tenants()
    tenant_id = tenant or (tenants[0]["id"] if tenants else "")
    result, error = None, None
    if chosen is not None:
        if not user.can("logs"):
            error = "Running the guide's queries needs the logs permission (Admin, Partner)."
        else:
            try:
                result = run_query(db(), chosen, tenant_id)
            except Exception as exc:  # a person reads the database's own words
                error = f"{type(exc).__name__}: {exc}"
    runs = []
    for part in queued.split(","):
        if part.isdecimal():
            runs.append(int(part))
    return render(
        request,
        "dev_tools.html",
        nav="dev",
        tab="tools",
        queries=QUERIES,
        chosen=chosen,
        result=result,
        error=error,
        tenants=tenants,
        tenant=tenant_id,
        dialect=db().dialect,
        queued=runs,
        database=_masked(deck.database_url or ""),
    )


@router.post("/dev/tools/run-all", response_class=HTMLResponse)
async def run_all(request: Request, user: Trigger) -> Response:
    """The weekly review's "test manual triggers for all 5 jobs", in one click."""
    await check_form(request, user, await small_form(request))
    actor = accounts.Actor(user.email, user.role, client_ip(request), "demo")

    def trigger() -> list[int]:
        return [run_now(deck, name, actor).job_id for name in LITIGATION_JOBS]

    ids = await run_in_threadpool(trigger)
    return RedirectResponse(f"/dev/tools?queued={','.join(map(str, ids))}", status_code=303)
