"""The Failures view in a real browser, on SQLite and PostgreSQL: jobs failed by a real worker
grouped by error, a group opening to its jobs, Retry all with its count, Mute and Show muted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from jobdeck.states import JobState
from jobdeck.store.base import AuditFilter, JobFilter
from tests.browser.conftest import dashboard, shot
from tests.browser.harness import LiveServer, RunningWorker, unfinished, wait_until

# The issue-17 console's pages, in Chromium on both stores (tests/conftest.py).
pytestmark = pytest.mark.both_stores

SYNC = 3_000  # ms


@dataclass
class Failing:
    url: str
    deck: JobDeck
    charge_ids: list[int]


def make_deck(url: str) -> JobDeck:
    deck = JobDeck(url, heartbeat_interval=0.5, poll_interval=0.05, concurrency=4)

    @deck.task(name="charge_card", max_attempts=1)
    def charge_card(customer: int) -> None:
        _look_up_card(customer)

    @deck.task(name="send_receipt", max_attempts=1)
    def send_receipt(to: str) -> None:
        raise ConnectionRefusedError(f"smtp.example.com:25 refused the connection for {to}")

    @deck.task(name="ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    return deck


def _look_up_card(customer: int) -> None:
    raise LookupError(f"customer {customer} has no card on file (request {customer * 7919:x})")


@pytest.fixture
def failing(db_url: str) -> Iterator[Failing]:
    deck = make_deck(db_url)
    charge = [deck.tasks["charge_card"].enqueue(customer=c).id for c in (12, 340, 5, 77, 9001)]
    for to in ("a@example.com", "b@example.com"):
        deck.tasks["send_receipt"].enqueue(to=to)
    deck.tasks["ping"].enqueue()
    worker = RunningWorker(deck, scheduler_enabled=False).start()
    try:
        wait_until(lambda: unfinished(deck) == 0, 30, "the jobs to finish")
    finally:
        worker.stop()  # stopped: the retried jobs stay queued for the test to see
    server = LiveServer(dashboard(deck)).start()
    try:
        yield Failing(server.url, deck, charge)
    finally:
        server.stop()
        deck.close()


def groups(page: Page) -> Any:
    return page.locator("#failure-groups li.error-group")


def test_failures_are_grouped_open_to_their_jobs_retry_and_mute(
    page: Page, failing: Failing, request: pytest.FixtureRequest
) -> None:
    page.goto(f"{failing.url}/failures")
    expect(page.locator("nav a[aria-current='page']")).to_have_text("Failures")
    expect(groups(page)).to_have_count(2)
    card = groups(page).first
    expect(card.locator(".exception")).to_have_text("LookupError")
    expect(card.locator(".title")).to_have_text("customer <n> has no card on file (request <n>)")
    expect(card.locator(".frame")).to_have_text("in browser/test_failures_page.py in _look_up_card")
    expect(card.locator("dd.count")).to_have_text("5")
    expect(card.locator("dd.tasks")).to_have_text("1")
    expect(card.locator("svg.sparkline polyline")).to_have_count(1)
    card.locator(".sample summary").click()
    expect(card.locator(".sample pre.traceback")).to_contain_text("in _look_up_card")
    expect(groups(page).nth(1).locator(".exception")).to_have_text("ConnectionRefusedError")
    shot(page, request, "failures")

    # A group opens to its jobs: the Jobs page's own list, filtered by the group.
    card.get_by_role("link", name="Show its jobs").click()
    expect(page).to_have_url(re.compile(r"/jobs\?group=[0-9a-f]{16}$"))
    expect(page.locator(".group-filter")).to_contain_text("error group")
    rows = page.locator("#job-table tr.job-row")
    expect(rows).to_have_count(5)
    ids = rows.evaluate_all("rs => rs.map(r => +r.dataset.jobId)")
    assert sorted(ids) == sorted(failing.charge_ids)
    page.go_back()

    # Retry all: the confirmation counts the jobs, the retry runs them again and is audited.
    card = groups(page).first
    card.get_by_role("button", name="Retry all in this group").click()
    confirm = card.locator(".confirm")
    expect(confirm).to_contain_text("Retry 5 jobs whose latest failure is in this group?")
    confirm.get_by_role("button", name="Retry 5 jobs").click()
    expect(card.locator(".group-confirm")).to_contain_text("5 jobs of this group queued to run")
    expect(page.locator("#toasts")).to_contain_text("5 jobs of this group queued", timeout=SYNC)
    queued = failing.deck.store.count_jobs(JobFilter(states=frozenset({JobState.AVAILABLE})))
    assert queued == 5
    [audit] = failing.deck.store.list_audit(AuditFilter(action_type="retry_error_group"), 5)
    assert audit.details["jobs"] == 5

    # Mute: the group leaves the list, and comes back with "Show muted groups".
    receipts = groups(page).nth(1)
    receipts.get_by_role("button", name="Mute").click()
    expect(groups(page)).to_have_count(1)
    expect(page.locator("#toasts")).to_contain_text("Group muted")
    page.locator("#show-muted").check()
    expect(page).to_have_url(re.compile(r"/failures\?muted=1$"))
    expect(groups(page)).to_have_count(2)
    muted = page.locator("#failure-groups li.error-group.muted")
    expect(muted.locator(".badge")).to_have_text("muted")
    muted.get_by_role("button", name="Unmute").click()
    expect(page.locator("#failure-groups li.error-group.muted")).to_have_count(0)
    expect(groups(page)).to_have_count(2)
    page.reload()
    expect(page.locator("#show-muted")).to_be_checked()


def test_an_empty_period_and_a_bad_fingerprint_answer_plainly(page: Page, failing: Failing) -> None:
    page.goto(f"{failing.url}/failures?period=nonsense")
    expect(page.locator(".notice-warn")).to_contain_text("Unknown period 'nonsense'")
    page.goto(f"{failing.url}/jobs?group=zzz")
    expect(page.locator(".notice-warn")).to_contain_text("Ignored group='zzz'")
    response = page.goto(f"{failing.url}/failures/0000000000000000/retry")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("no error group")
