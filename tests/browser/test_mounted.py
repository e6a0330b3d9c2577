"""The dashboard mounted at /admin/jobs inside a host FastAPI app: pages, htmx requests, static
files and redirects all stay under the prefix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from tests.browser import apps
from tests.browser.conftest import dashboard, shot
from tests.browser.harness import LiveServer, RunningWorker, unfinished, wait_until

PREFIX = "/admin/jobs"


@dataclass
class MountedSite:
    url: str  # the host app's root
    deck: JobDeck


@pytest.fixture(scope="module")
def mounted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MountedSite]:
    url = f"sqlite:///{tmp_path_factory.mktemp('mounted') / 'jobs.db'}"
    deck = apps.make_small_deck(url)
    deck.migrate()
    host = FastAPI()

    @host.get("/")
    def home() -> PlainTextResponse:
        return PlainTextResponse("the host application")

    host.mount(PREFIX, dashboard(deck))
    worker = RunningWorker(deck).start()
    server: LiveServer | None = None
    try:
        deck.tasks["ping"].enqueue_many([{"n": n} for n in range(5)])
        wait_until(lambda: unfinished(deck) == 0, 30, "the ping jobs to finish")
        server = LiveServer(host).start()
        yield MountedSite(server.url, deck)
    finally:
        if server is not None:
            server.stop()
        worker.stop()
        deck.close()


@dataclass
class Traffic:
    paths: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def watch_traffic(page: Page, site: MountedSite) -> Traffic:
    seen = Traffic()

    def on_response(response: Any) -> None:
        parts = urlsplit(response.url)
        if f"{parts.scheme}://{parts.netloc}" != site.url:
            return
        seen.paths.append(parts.path)
        if response.status >= 400:
            seen.failures.append(f"{response.status} {parts.path}")

    page.on("response", on_response)
    return seen


def test_pages_htmx_and_static_files_resolve_under_the_prefix(
    page: Page, mounted: MountedSite, request: pytest.FixtureRequest
) -> None:
    traffic = watch_traffic(page, mounted)
    page.goto(f"{mounted.url}{PREFIX}/")
    expect(page).to_have_url(f"{mounted.url}{PREFIX}/jobs")
    expect(page.locator("#chart[data-ready]")).to_have_count(1)  # app.js and uPlot loaded
    assert page.evaluate("typeof window.htmx") == "object"
    pill = page.locator("#health-pill")
    expect(pill).to_have_text("Worker Healthy")  # an htmx request under the prefix
    expect(page.locator("#job-table tr.job-row")).to_have_count(5)
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")

    page.fill("#f-task", "pin")
    expect(page).to_have_url(f"{mounted.url}{PREFIX}/jobs?task=pin")
    page.locator("#job-table tr.job-row").first.click()
    expect(page.locator("#drawer.open h2")).to_have_text("ping")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="7d", exact=True).click()
    expect(page).to_have_url(re.compile(rf"{PREFIX}/jobs\?period=7d&task=pin$"))
    page.reload()
    expect(page.locator(".seg[aria-current]")).to_have_text("7d")

    page.get_by_role("link", name="Scheduled jobs").click()
    expect(page).to_have_url(f"{mounted.url}{PREFIX}/schedules")
    summary = page.locator("#schedule-summary")
    expect(summary).to_have_class(re.compile(r"summary-ok"))
    expect(summary).to_contain_text("All 1 scheduled jobs are healthy.")
    card = page.locator("[data-schedule='nightly-cleanup']")
    card.get_by_role("button", name="Run Now").click()
    expect(page.locator("#toasts .toast", has_text="3 sessions removed")).to_contain_text(
        "Job executed successfully - 3 sessions removed", timeout=15_000
    )
    expect(card.locator("[data-badge]")).to_have_text("Success")
    card.locator(".description").click()
    expect(card.locator(".runs-table a").first).to_be_visible()
    card.locator(".runs-table a").first.click()
    expect(page).to_have_url(re.compile(rf"{PREFIX}/jobs\?job=\d+$"))
    expect(page.locator("#drawer.open h2")).to_have_text("nightly-cleanup")
    shot(page, request, "drawer")

    page.goto(f"{mounted.url}{PREFIX}")
    expect(page).to_have_url(f"{mounted.url}{PREFIX}/jobs")
    page.goto(mounted.url)
    expect(page.locator("body")).to_have_text("the host application")

    assert not traffic.failures, f"requests failed under the prefix: {traffic.failures}"
    outside = sorted({p for p in traffic.paths if not p.startswith(f"{PREFIX}/")} - {"/", PREFIX})
    assert not outside, f"requests escaped the prefix: {outside}"
    for asset in ("static/app.js", "static/app.css", "static/vendor/htmx.min.js"):
        assert f"{PREFIX}/{asset}" in traffic.paths
    for fragment in ("health", "jobs/table", "jobs/stats", "schedules/nightly-cleanup/run"):
        assert f"{PREFIX}/{fragment}" in traffic.paths


@pytest.fixture(scope="module")
def with_login(mounted: MountedSite) -> Iterator[MountedSite]:
    """The same deck mounted exactly as the README says, ``deck.asgi()`` with jobdeck's own
    sign-in (no ``authorize=``), and a partner who may trigger jobs."""
    from jobdeck import accounts

    deck = mounted.deck
    policy = accounts.AccessPolicy.from_settings(deck.settings.role_permissions)
    accounts.add_user(
        deck.store, deck.clock, policy, accounts.Actor("test"), PARTNER, PASSWORD, "partner"
    )
    host = FastAPI()
    host.mount(PREFIX, deck.asgi(health_refresh=1, live_refresh=2))
    server = LiveServer(host).start()
    try:
        yield MountedSite(server.url, deck)
    finally:
        server.stop()


PARTNER = "partner@example.com"
PASSWORD = "correct horse battery"


def test_sign_in_under_the_prefix_then_run_now_passes_the_csrf_check(
    page: Page, with_login: MountedSite
) -> None:
    traffic = watch_traffic(page, with_login)
    page.goto(f"{with_login.url}{PREFIX}/schedules")
    expect(page).to_have_url(re.compile(rf"{PREFIX}/login\?next="))
    page.get_by_label("Email").fill(PARTNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{with_login.url}{PREFIX}/schedules")
    expect(page.locator("#health-pill")).to_have_text("Worker Healthy")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["jobdeck_session"]["path"] == f"{PREFIX}/"
    assert cookies["jobdeck_session"]["httpOnly"]

    card = page.locator("[data-schedule='nightly-cleanup']")
    card.get_by_role("button", name="Run Now").click()
    expect(page.locator("#toasts .toast", has_text="Job executed successfully")).to_have_count(
        1, timeout=15_000
    )
    assert not [f for f in traffic.failures if "/run" in f], traffic.failures

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(rf"{PREFIX}/login"))
    page.goto(f"{with_login.url}{PREFIX}/jobs")
    expect(page).to_have_url(re.compile(rf"{PREFIX}/login\?next="))
