"""Browser-test fixtures: Debian's Chromium driven by Playwright, and dashboards served on
127.0.0.1 over SQLite decks filled by real workers running real tasks."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobdeck import JobDeck
from jobdeck.store.base import JobFilter
from jobdeck.web import PERMISSIONS, Principal
from jobdeck.worker.scheduler import Scheduler
from tests.browser import apps
from tests.browser.harness import LiveServer, RunningWorker, unfinished, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
HEALTH_REFRESH = 1
LIVE_REFRESH = 2
RECENT_EMAILS = 110
RECENT_DOCUMENTS = 6
PAST_EMAILS = 8
PAST_DOCUMENTS = 3
PAST_OFFSET = timedelta(days=3)


def as_admin(request: Any) -> Principal:
    """The host application's login, reduced to "everyone is an admin" for these tests."""
    return Principal("tester", "tester@example.com", "admin", frozenset(PERMISSIONS))


def dashboard(deck: JobDeck) -> Any:
    return deck.asgi(authorize=as_admin, health_refresh=HEALTH_REFRESH, live_refresh=LIVE_REFRESH)


# -- the browser ---------------------------------------------------------------------------------


# Package scope, not session: Playwright's sync API keeps an event loop running on the main
# thread while it is started, and tests after this package call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        reason = (
            f"!!! {CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install chromium) to run the browser tests !!!"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests are required under CI=true: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    launched = driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield launched
    finally:
        launched.close()
        driver.stop()


@dataclass
class PageLog:
    """What the page did behind the test's back: dialogs (any is a bug) and script errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, page_log: PageLog, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh context per test (1440x900, UTC); a screenshot is saved when the test ends."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, timezone_id="UTC", locale="en-US"
    )
    context.set_default_timeout(10_000)
    opened = context.new_page()

    def on_dialog(dialog: Any) -> None:
        page_log.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    opened.on("dialog", on_dialog)
    opened.on("pageerror", lambda exc: page_log.errors.append(str(exc)))
    opened.on("console", lambda message: _note_policy_violation(message, page_log))
    try:
        yield opened
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        if not opened.is_closed():
            opened.screenshot(path=ARTIFACTS / f"{artifact_name(request.node.name)}.png")
        context.close()
    assert not page_log.dialogs, f"the page opened dialogs: {page_log.dialogs}"
    assert not page_log.errors, f"the page raised script errors: {page_log.errors}"


def _note_policy_violation(message: Any, page_log: PageLog) -> None:
    """Every browser test also proves the pages run under their Content-Security-Policy:
    Chromium reports each blocked script, style or frame on the console."""
    if "Content Security Policy" in message.text:
        page_log.errors.append(f"CSP: {message.text}")


def artifact_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def shot(page: Any, request: pytest.FixtureRequest, suffix: str) -> None:
    """An extra screenshot of a moment inside a test."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{artifact_name(request.node.name)}-{suffix}.png")


# -- the main site ------------------------------------------------------------------------------


@dataclass
class Site:
    url: str
    deck: JobDeck
    worker: RunningWorker
    success_id: int  # a labelled send_claim_verification_email job
    failure_id: int  # a process_document job that failed twice
    xss_failed_id: int
    xss_ok_id: int
    past_day: date  # the UTC day the back-dated history was enqueued on
    recent_day: date

    def count(self, **filters: Any) -> int:
        return self.deck.store.count_jobs(JobFilter(**filters))


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The guide's dashboard over ~130 jobs: three days ago and just now, run by real workers."""
    url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'jobs.db'}"
    deck = apps.make_main_deck(url)
    deck.migrate()

    # History three days back: a worker whose clock is behind enqueues and runs these jobs.
    past = apps.make_main_deck(url, clock=apps.ShiftedClock(PAST_OFFSET))
    for i in range(PAST_EMAILS):
        _email(past, 9000 + i)
    past_failure = 0
    for i in range(PAST_DOCUMENTS):
        past_failure = past.tasks["process_document"].enqueue(document_id=900 + i).id
    old_worker = RunningWorker(past, scheduler_enabled=False).start()
    try:
        wait_until(lambda: unfinished(past) == 0, 30, "the back-dated jobs to finish")
    finally:
        old_worker.stop()
        past.close()

    # The schedules are synced but never fire by themselves: the */15 check would otherwise add
    # a job whenever the suite crosses a quarter hour. Run Now, staleness and the cards do not
    # need the scheduler loop (its own tests cover the ticks).
    Scheduler(deck).sync()
    worker = RunningWorker(deck, scheduler_enabled=False).start()
    server: LiveServer | None = None
    try:
        # A first run of the two schedules, alongside the batch.
        deck.run_now("check-sla-and-overdue", by="fixture")
        deck.run_now("send-hearing-reminders", by="fixture")
        success_id = 0
        for i in range(RECENT_EMAILS):
            handle = _email(deck, 1000 + i)
            if i == RECENT_EMAILS - 20:
                success_id = handle.id
        failure_id = 0
        for i in range(RECENT_DOCUMENTS):
            failure_id = deck.tasks["process_document"].enqueue(document_id=100 + i).id
        preview = deck.tasks["render_preview"].options(labels={"event_type": apps.XSS_LABEL})
        xss_failed_id = preview.enqueue(html=apps.XSS_ARG, fail=True).id
        xss_ok_id = preview.enqueue(html=apps.XSS_ARG, fail=False).id
        wait_until(lambda: unfinished(deck) == 0, 60, "the jobs to finish")
        wait_until(
            lambda: any(s.stale for s in _statuses(deck)), 15, "the analytics schedule to go stale"
        )

        past_job = deck.store.get_job(past_failure)
        recent_job = deck.store.get_job(failure_id)
        assert past_job is not None and recent_job is not None
        server = LiveServer(dashboard(deck)).start()
        yield Site(
            url=server.url,
            deck=deck,
            worker=worker,
            success_id=success_id,
            failure_id=failure_id,
            xss_failed_id=xss_failed_id,
            xss_ok_id=xss_ok_id,
            past_day=past_job.enqueued_at.date(),
            recent_day=recent_job.enqueued_at.date(),
        )
    finally:
        if server is not None:
            server.stop()
        worker.stop()
        deck.close()


def _email(deck: JobDeck, user: int) -> Any:
    email = f"user{user}@example.com"
    labelled = deck.tasks["send_claim_verification_email"].options(
        labels={"user_id": user, "email": email}
    )
    return labelled.enqueue(user_id=user, email=email)


def _statuses(deck: JobDeck) -> list[Any]:
    from jobdeck.control.schedules import schedule_statuses

    return schedule_statuses(deck)
