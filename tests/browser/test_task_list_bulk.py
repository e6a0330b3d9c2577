"""The task list's search box, counts by state and bulk actions in Chromium, on both stores:
a count sets the Status filter, a search narrows the rows or opens a job's drawer (with its
redacted argument masked), and Retry / Cancel over "all matching" or the selected rows asks
in the page with the count, then acts and audits once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import AuditFilter, ClaimRequest, NewJob, Outcome
from tests.browser import apps
from tests.browser.conftest import dashboard, shot
from tests.browser.harness import LiveServer

# The issue-17 console's pages, in Chromium on both stores (tests/conftest.py).
pytestmark = pytest.mark.both_stores

ROWS = "#job-table tr.job-row"
FAILED = 60  # more than the 50 rows of a page


@dataclass
class Desk:
    url: str
    deck: JobDeck
    mail_ids: list[int]


@pytest.fixture
def desk(db_url: str) -> Iterator[Desk]:
    """60 failed "import" jobs (arguments sku-0..sku-59) and two pending "mail" jobs whose
    password argument the deck redacts; no worker, so nothing moves unless the test acts."""
    deck = JobDeck(db_url, redact=("password",), **apps.FAST)
    deck.migrate()
    store = deck.store
    store.insert_jobs(
        [
            NewJob("import", json.dumps({"sku": f"sku-{i}"}), queue="imports", max_attempts=1)
            for i in range(FAILED)
        ]
    )
    now = datetime.now(UTC)
    claimed = store.claim_jobs(ClaimRequest("w1", ["imports"], FAILED, 30.0))
    store.complete_jobs(
        "w1",
        [
            Outcome(
                c.id,
                1,
                c.task,
                AttemptStatus.FAILED,
                JobState.FAILED,
                c.started_at,
                now,
                error="KeyError: price missing",
            )
            for c in claimed
        ],
        shard=1,
    )
    mail = [
        r.job_id
        for r in store.insert_jobs(
            [
                NewJob("mail", json.dumps({"to": f"u{i}@example.com", "password": "hunter2"}))
                for i in range(2)
            ]
        )
    ]
    server = LiveServer(dashboard(deck)).start()
    try:
        yield Desk(server.url, deck, mail)
    finally:
        server.stop()
        deck.close()


def open_jobs(page: Page, desk: Desk, query: str = "") -> None:
    page.goto(f"{desk.url}/jobs{query}")
    expect(page.locator("#health-pill")).not_to_have_text("Checking…")  # htmx ran


def states(deck: JobDeck) -> dict[str, int]:
    return {str(k): v for k, v in deck.store.count_by_state().items()}


def test_counts_link_to_the_status_filter_and_search_narrows_or_opens_a_job(
    page: Page, desk: Desk, request: pytest.FixtureRequest
) -> None:
    open_jobs(page, desk)
    expect(page.locator("#count-failed .state-count-n")).to_have_text(str(FAILED))
    expect(page.locator("#count-pending .state-count-n")).to_have_text("2")
    expect(page.locator("#count-success .state-count-n")).to_have_text("0")
    page.click("#count-failed")
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.locator("#f-status")).to_have_value("failed")
    expect(page.locator(ROWS)).to_have_count(50)

    page.fill("#f-search", "args.sku:sku-7")
    expect(page).to_have_url(re.compile(r"q=args.sku%3Asku-7"))
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator("#count-failed .state-count-n")).to_have_text("1")
    page.fill("#f-search", "price missing")  # error text
    expect(page.locator(ROWS)).to_have_count(50)

    page.select_option("#f-status", "all")
    page.fill("#f-search", "hunter2")  # only inside the redacted argument: no match
    expect(page.locator("#job-table .empty")).to_have_count(1)
    page.fill("#f-search", str(desk.mail_ids[1]))  # a job id opens its drawer
    expect(page.locator("#drawer.open")).to_have_count(1)
    expect(page.locator("#drawer")).to_contain_text("[redacted]")
    expect(page.locator("#drawer")).not_to_contain_text("hunter2")
    shot(page, request, "search")


def test_retry_all_matching_and_cancel_selected_rows_confirm_in_the_page(
    page: Page, desk: Desk, request: pytest.FixtureRequest
) -> None:
    open_jobs(page, desk, "?status=failed")
    expect(page.locator("#bulk-retry")).to_be_disabled()
    expect(page.locator("#bulk-all")).to_be_hidden()
    page.check("#select-page")
    expect(page.locator("#bulk-selected")).to_have_text("50 rows selected.")
    expect(page.locator("#drawer.open")).to_have_count(0)  # a checkbox does not open the row
    page.click("#bulk-all")
    expect(page.locator("#bulk-all")).to_be_hidden()
    expect(page.locator("#bulk-selected")).to_have_text(
        "All jobs matching this filter are selected."
    )
    page.click("#bulk-retry")
    expect(page.locator("#bulk-question")).to_contain_text(
        f"Retry {FAILED} jobs matching this filter"
    )
    shot(page, request, "confirm")
    page.fill("#bulk-reason", "prices loaded")
    page.click("#bulk-go")
    expect(
        page.locator("#toasts .toast", has_text=f"{FAILED} jobs queued to run again")
    ).to_have_count(1)
    expect(page.locator("#job-table .empty")).to_have_count(1)  # none failed now
    assert states(desk.deck) == {"available": FAILED + 2}

    open_jobs(page, desk, "?task=mail")
    page.locator(f"{ROWS} .row-select").first.check()
    page.locator(f"{ROWS} .row-select").nth(1).check()
    page.click("#bulk-cancel")
    expect(page.locator("#bulk-question")).to_contain_text("Cancel 2 jobs of the 2 selected")
    page.click("#bulk-back")  # changes its mind: nothing happens
    expect(page.locator("#bulk-question")).to_have_count(0)
    page.click("#bulk-cancel")
    page.click("#bulk-go")
    expect(page.locator("#toasts .toast", has_text="2 jobs cancelled")).to_have_count(1)
    expect(page.locator("#count-cancelled .state-count-n")).to_have_text("2")
    assert states(desk.deck) == {"available": FAILED, "cancelled": 2}
    rows = desk.deck.store.list_audit(AuditFilter(executions=False), 10)
    bulk = [(r.action_type, r.details["count"], r.details.get("reason")) for r in rows]
    assert bulk == [("bulk_cancel", 2, None), ("bulk_retry", FAILED, "prices loaded")]
