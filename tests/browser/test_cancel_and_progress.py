"""A running job in a real browser: the drawer's progress bar and log lines move by
themselves, the task list's running row shows its progress, and Cancel stops the job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from jobdeck import JobDeck, current_job
from tests.browser import apps
from tests.browser.conftest import ARTIFACTS, LIVE_REFRESH, artifact_name, as_admin, shot
from tests.browser.harness import LiveServer, RunningWorker

POLLED = LIVE_REFRESH * 1000 * 4


def make_deck(url: str) -> JobDeck:
    deck = JobDeck(url, **apps.FAST)

    @deck.task(name="import_rows")
    def import_rows(rows: int = 100_000) -> dict[str, Any]:
        job = current_job()
        for n in range(1, rows + 1):
            job.check_cancelled()
            job.report_progress(n, rows, "importing <rows>")
            if n % 20 == 0:
                job.log(f"imported {n} rows")
            job.wait_cancelled(0.01)
        return {"summary": "all rows"}

    return deck


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, JobDeck]]:
    folder = tmp_path_factory.mktemp("cancel")
    deck = make_deck(f"sqlite:///{folder / 'jobs.db'}")
    deck.migrate()
    server = LiveServer(deck.asgi(authorize=as_admin, live_refresh=LIVE_REFRESH)).start()
    try:
        yield server.url, deck
    finally:
        server.stop()
        deck.close()


@pytest.fixture
def confirming_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page that accepts the Cancel confirmation; script errors still fail the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("dialog", lambda dialog: dialog.accept())
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{artifact_name(request.node.name)}.png")
        context.close()
    assert not errors, f"the page raised script errors: {errors}"


def test_progress_and_log_lines_move_live_and_cancel_stops_the_job(
    confirming_page: Page, served: tuple[str, JobDeck], request: pytest.FixtureRequest
) -> None:
    page = confirming_page
    url, deck = served
    job_id = deck.tasks["import_rows"].enqueue().id
    worker = RunningWorker(deck, scheduler_enabled=False, report_flush_interval=0.2).start()
    try:
        page.goto(f"{url}/jobs")
        row = page.locator(f"#job-row-{job_id}")
        expect(row.locator(".row-progress progress")).to_be_visible(timeout=POLLED)

        page.goto(f"{url}/jobs?job={job_id}")
        bar = page.locator("#drawer-progress progress")
        expect(bar).to_be_visible(timeout=POLLED)
        expect(page.locator("#drawer-progress")).to_contain_text("importing <rows>")
        first = float(bar.get_attribute("value") or 0)
        # The drawer polls itself: the bar moves on and more lines come, with no reload.
        page.wait_for_function(
            f"() => Number(document.querySelector('#drawer-progress progress').value) > {first}",
            timeout=POLLED,
        )
        expect(page.locator("#drawer-log")).to_contain_text("imported 20 rows", timeout=POLLED)
        shot(page, request, "running")

        page.fill("#drawer-reason", "wrong file")
        page.click("#drawer-cancel")
        expect(page.locator("#drawer-cancelling")).to_contain_text("Cancelled by")
        expect(page.locator("#drawer-cancel")).to_have_count(0)
        badge = page.locator("#drawer-live .drawer-head .badge")
        expect(badge).to_have_text("Cancelled", timeout=POLLED)
    finally:
        worker.stop()
    attempt = page.locator("#drawer-live .attempts li").first
    expect(attempt).to_contain_text("cancelled")
    expect(attempt).to_contain_text("cancelled by")
    # Kept with the attempt once it ended.
    expect(page.locator("#drawer-log")).to_contain_text("imported 20 rows")
    expect(page.locator("#drawer-live .operator-actions")).to_contain_text("wrong file")
    job = deck.store.get_job(job_id)
    assert job is not None and job.state == "cancelled"
