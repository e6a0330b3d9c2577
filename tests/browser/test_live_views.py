"""Views that stay live, in a real browser: an open "Last 10 executions", an open drawer, the
Documents table and the audit log each update by themselves, and keep what the reader was
doing (scroll, open lists, a reason being typed) across the refresh. Reasons are shown."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck, control
from jobdeck.auditlog import Actor, audit
from jobdeck.contrib.documents import Documents, LocalStorage, install_documents
from jobdeck.contrib.documents.web import documents_pages
from jobdeck.worker.scheduler import Scheduler
from tests.browser import apps
from tests.browser.conftest import LIVE_REFRESH, as_admin, shot
from tests.browser.harness import LiveServer, RunningWorker
from tests.documents import files

SCHEDULE = "live-report"
# A poll a test waits for: a couple of refresh periods and a margin for a busy machine.
POLLED = LIVE_REFRESH * 1000 * 4
# The held task runs until this is set; the flaky one fails until this is set.
RELEASE = threading.Event()
HEALED = threading.Event()
ATTEMPTS: list[int] = []


@dataclass
class Live:
    url: str
    deck: JobDeck
    documents: Documents

    def worker(self) -> RunningWorker:
        return RunningWorker(self.deck, scheduler_enabled=False).start()


def make_deck(url: str) -> JobDeck:
    deck = JobDeck(url, **apps.FAST)

    @deck.task(name="hold_until_released")
    def hold_until_released() -> dict[str, Any]:
        RELEASE.wait(30)
        return {"summary": "released"}

    @deck.task(name="flaky_until_healed", max_attempts=2, retry_backoff=600)
    def flaky_until_healed() -> dict[str, Any]:
        if not HEALED.is_set():
            raise RuntimeError("SMTP connection refused")
        return {"summary": "sent after all"}

    @deck.task(name="fails_twice_then_holds", max_attempts=3, retry_backoff=0.05)
    def fails_twice_then_holds() -> dict[str, Any]:
        ATTEMPTS.append(1)
        if len(ATTEMPTS) <= 2:
            raise RuntimeError(f"flaky upstream, try {len(ATTEMPTS)}")
        RELEASE.wait(30)
        return {"summary": "third time lucky"}

    @deck.periodic(name=SCHEDULE, cron="0 3 1 1 *", title="Live Report")
    def live_report() -> dict[str, Any]:
        return {"summary": "report built"}

    return deck


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A deck with no worker running between tests: each test starts one when it wants the
    jobs to move, so it can look at a page before and after."""
    folder = tmp_path_factory.mktemp("live")
    deck = make_deck(f"sqlite:///{folder / 'jobs.db'}")
    deck.migrate()
    documents = install_documents(deck, LocalStorage(folder / "files"), index_delay=0.1)
    Scheduler(deck).sync()
    app = deck.asgi(
        authorize=as_admin,
        live_refresh=LIVE_REFRESH,
        health_refresh=30,
        extra_routers=[documents_pages(documents)],
        extra_nav=[("documents", "Documents", "trigger")],
    )
    server = LiveServer(app).start()
    try:
        yield Live(server.url, deck, documents)
    finally:
        server.stop()
        documents.close()
        deck.close()


def mark_loaded(page: Page) -> None:
    """A flag a reload would drop: the views below must change without one."""
    page.evaluate("window.notReloaded = true")


def not_reloaded(page: Page) -> None:
    assert page.evaluate("window.notReloaded === true"), "the page was reloaded"


def live_polls(page: Page, path: str) -> list[str]:
    seen: list[str] = []
    page.on(
        "request", lambda r: seen.append(r.url) if path in r.url and "live=1" in r.url else None
    )
    return seen


# -- Last 10 executions ---------------------------------------------------------------------------


def test_an_open_last_ten_list_shows_a_new_run_with_who_asked_and_why(
    page: Page, live: Live, request: pytest.FixtureRequest
) -> None:
    page.goto(f"{live.url}/schedules")
    mark_loaded(page)
    card = page.locator(f"[data-schedule='{SCHEDULE}']")
    runs = card.locator("details.runs")
    polls = live_polls(page, "/runs")
    page.wait_for_timeout(LIVE_REFRESH * 1500)
    assert polls == [], "a folded list must not poll"

    card.locator(".description, .frequency").first.click()
    expect(runs).to_have_attribute("open", "")
    expect(card.locator(".runs-body")).to_contain_text("No executions yet")

    actor = Actor("alice@example.com", "admin", via="web")
    run = control.run_now(live.deck, SCHEDULE, actor, reason="the client called at 9")
    worker = live.worker()
    try:
        row = card.locator(f".runs-table tr[data-job-id='{run.job_id}']")
        expect(row.locator(".badge")).to_have_text("Success", timeout=POLLED)
    finally:
        worker.stop()
    expect(row).to_contain_text("manual by alice@example.com")
    expect(row.locator(".reason-text")).to_have_text("“the client called at 9”")
    expect(runs).to_have_attribute("open", "")  # the refresh did not fold it
    shot(page, request, "open")
    not_reloaded(page)

    runs.locator("summary").click()  # folded again: the polls stop
    expect(runs).not_to_have_attribute("open", "")
    count = len(polls)
    page.wait_for_timeout(LIVE_REFRESH * 1500)
    assert len(polls) == count


# -- the drawer -----------------------------------------------------------------------------------


def drawer_badge(page: Page) -> Any:
    return page.locator("#drawer-live .drawer-head .badge")


def test_an_open_drawer_goes_from_running_to_success_and_then_stops_polling(
    page: Page, live: Live
) -> None:
    RELEASE.clear()
    job_id = live.deck.tasks["hold_until_released"].enqueue().id
    worker = live.worker()
    try:
        page.goto(f"{live.url}/jobs?job={job_id}")
        mark_loaded(page)
        expect(drawer_badge(page)).to_have_text("Running", timeout=POLLED)
        expect(page.locator("#drawer-live")).to_have_attribute("hx-trigger", re.compile("every"))
        RELEASE.set()
        expect(drawer_badge(page)).to_have_text("Success", timeout=POLLED)
    finally:
        RELEASE.set()
        worker.stop()
    drawer = page.locator("#drawer")
    expect(drawer).to_have_class(re.compile(r"\bopen\b"))
    expect(drawer.locator(".hint-stuck")).to_have_count(0)
    expect(drawer.locator("section", has_text="Result")).to_contain_text("released")
    # Succeeded: nothing can change it, so the drawer no longer polls.
    expect(page.locator("#drawer-live")).not_to_have_attribute("hx-trigger", re.compile("."))
    polls = live_polls(page, f"/jobs/{job_id}/drawer")
    page.wait_for_timeout(LIVE_REFRESH * 1500)
    assert polls == []
    not_reloaded(page)


def test_an_opened_traceback_stays_open_when_the_drawer_refreshes(page: Page, live: Live) -> None:
    RELEASE.clear()
    ATTEMPTS.clear()
    job_id = live.deck.tasks["fails_twice_then_holds"].enqueue().id
    worker = live.worker()
    try:
        page.goto(f"{live.url}/jobs?job={job_id}")
        attempts = page.locator("#drawer-live .attempts li")
        expect(attempts).to_have_count(3, timeout=POLLED)  # #3 running, #2 and #1 failed
        expect(drawer_badge(page)).to_have_text("Running")
        first = page.locator("#drawer-live details[data-keep-open='attempt-1']")
        first.locator("summary").click()
        expect(first).to_have_attribute("open", "")
        RELEASE.set()
        expect(drawer_badge(page)).to_have_text("Success", timeout=POLLED)
    finally:
        RELEASE.set()
        worker.stop()
    expect(page.locator("#drawer-live details[data-keep-open='attempt-1']")).to_have_attribute(
        "open", ""
    )
    expect(page.locator("#drawer-live details[data-keep-open='attempt-2']")).not_to_have_attribute(
        "open", ""
    )


def test_a_reason_being_typed_survives_the_refresh_and_retry_ends_consistent(
    page: Page, live: Live
) -> None:
    HEALED.clear()
    page.set_viewport_size({"width": 1280, "height": 480})  # a drawer taller than the window
    job_id = live.deck.tasks["flaky_until_healed"].enqueue().id
    worker = live.worker()
    try:
        page.goto(f"{live.url}/jobs?job={job_id}")
        mark_loaded(page)
        # Failed once, a retry due in ten minutes: still live, and Retry is offered.
        expect(drawer_badge(page)).to_have_text(re.compile(r"^Failed"), timeout=POLLED)
        reason = page.locator("#drawer-reason")
        reason.click()
        reason.type("SMTP is back")
        # Another operator acts meanwhile: while the reason has focus, no refresh replaces it.
        bob = Actor("bob@example.com", "admin", via="cli")
        audit(live.deck.store, live.deck.clock, bob, "cancel_refused", f"job {job_id}", {})
        actions = page.locator("#drawer-live .operator-actions")
        page.wait_for_timeout(LIVE_REFRESH * 1500)
        expect(actions).to_have_count(0)
        expect(reason).to_be_focused()
        # Away from the box (and scrolled down), the refresh comes; typed text and scroll stay.
        reason.evaluate("box => box.blur()")  # a click would scroll what it clicks into view
        assert page.locator("#drawer").evaluate("d => (d.scrollTop = 120, d.scrollTop)") == 120
        expect(actions).to_contain_text("cancel refused by bob@example.com", timeout=POLLED)
        expect(page.locator("#drawer-reason")).to_have_value("SMTP is back")
        scrolled = page.locator("#drawer").evaluate("d => d.scrollTop")
        assert scrolled == 120

        HEALED.set()
        page.locator("#drawer-retry").click()
        expect(page.locator("#toasts .toast", has_text=f"Job {job_id} queued")).to_have_count(1)
        expect(drawer_badge(page)).to_have_text("Success", timeout=POLLED)
    finally:
        HEALED.set()
        worker.stop()
    drawer = page.locator("#drawer-live")
    # One run's facts, not a mix: the Result, no Error section, both attempts listed.
    expect(drawer.locator("h3", has_text="Error")).to_have_count(0)
    expect(drawer.locator("section", has_text="Result")).to_contain_text("sent after all")
    expect(drawer.locator(".attempts li")).to_have_count(2)
    expect(drawer.locator(".attempts li").first.locator(".badge")).to_have_text("#2 succeeded")
    first_action = drawer.locator(".operator-actions li").first
    expect(first_action).to_contain_text("retry by tester@example.com")
    expect(first_action.locator(".reason-text")).to_have_text("“SMTP is back”")
    expect(drawer).not_to_have_attribute("hx-trigger", re.compile("."))
    not_reloaded(page)


# -- Documents ------------------------------------------------------------------------------------


def test_the_documents_table_reaches_ready_without_a_reload(page: Page, live: Live) -> None:
    page.goto(f"{live.url}/documents")
    mark_loaded(page)
    record = live.documents.upload("expert-7", "cv.pdf", files.multi_page_pdf("zymurgist"))
    row = page.locator(f"#documents-table tr[data-anchor='{record.id}']")
    expect(row.locator(".badge")).to_have_text("pending", timeout=POLLED)  # a new row appears
    worker = live.worker()
    try:
        expect(row.locator(".badge")).to_have_text("ready", timeout=POLLED)
    finally:
        worker.stop()
    expect(row).to_have_attribute("data-status", "ready")
    not_reloaded(page)


# -- the audit log --------------------------------------------------------------------------------


def test_a_new_audit_row_appears_with_its_reason_and_the_row_in_view_stays_put(
    page: Page, live: Live, tmp_path: Path
) -> None:
    carol = Actor("carol@example.com", "admin", via="api")
    for i in range(60):
        audit(live.deck.store, live.deck.clock, carol, "pause", f"schedule s{i}", {})
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(f"{live.url}/audit")
    mark_loaded(page)
    rows = page.locator("#audit-rows tbody tr")
    expect(rows).to_have_count(50)
    reading = rows.nth(30)
    reading.scroll_into_view_if_needed()
    key = reading.get_attribute("data-anchor")
    before = reading.bounding_box()
    assert before is not None and page.evaluate("window.scrollY") > 0

    audit(
        live.deck.store,
        live.deck.clock,
        carol,
        "retry",
        "job 999",
        {"reason": "payment provider recovered"},
    )
    newest = rows.first
    expect(newest.locator(".reason-text")).to_have_text(
        "“payment provider recovered”", timeout=POLLED
    )
    expect(newest).to_contain_text("retry")
    after = page.locator(f"#audit-rows tr[data-anchor='{key}']").bounding_box()
    assert after is not None and abs(after["y"] - before["y"]) <= 2, (before, after)
    not_reloaded(page)
