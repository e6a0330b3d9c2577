"""New job in Chromium, on both stores: from the Jobs page's button to the form a typed
signature gives, a refused value shown on the form with what was typed kept, then the job
created, its drawer open, and a worker running it to Success."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from jobdeck.store.base import AuditFilter, JobFilter
from tests.browser import apps
from tests.browser.conftest import dashboard, shot
from tests.browser.harness import LiveServer, RunningWorker

# The issue-17 console's pages, in Chromium on both stores (tests/conftest.py).
pytestmark = pytest.mark.both_stores


class Tier(enum.Enum):
    GOLD = "gold"
    SILVER = "silver"


@dataclass
class NewJobSite:
    url: str
    deck: JobDeck


@pytest.fixture
def new_job_site(db_url: str) -> Iterator[NewJobSite]:
    deck = JobDeck(db_url, **apps.FAST)

    @deck.task(name="reports.build")
    def build(
        account: str, count: int, due: date, tier: Tier, urgent: bool = False
    ) -> dict[str, str]:
        return {"summary": f"{count} {tier} report(s) for {account} due {due}"}

    worker = RunningWorker(deck, scheduler_enabled=False).start()
    server = LiveServer(dashboard(deck)).start()
    try:
        yield NewJobSite(server.url, deck)
    finally:
        server.stop()
        worker.stop()
        deck.close()


def test_new_job_form_fills_submits_and_opens_the_drawer(
    page: Page, new_job_site: NewJobSite, request: pytest.FixtureRequest
) -> None:
    page.goto(f"{new_job_site.url}/jobs")
    page.locator("#new-job").click()
    expect(page).to_have_url(re.compile(r"/jobs/new$"))
    page.select_option("#nj-task", "reports.build")
    page.locator("#pick-task button").click()
    form = page.locator("#new-job-form")
    expect(form.locator("[name='arg:account']")).to_be_visible()
    page.fill("[name='arg:account']", "acme")
    page.fill("[name='arg:count']", "3")
    page.fill("[name='arg:due']", "2025-01-31")
    page.select_option("[name='arg:tier']", "silver")
    page.select_option("[name='arg:urgent']", "true")
    page.fill("[name='labels']", "ticket OPS-12")  # no "=": refused, named, what was typed kept
    page.fill("[name='reason']", "customer asked")
    form.locator("button[type=submit]").click()

    error = page.locator("#form-error")
    expect(error).to_have_text("labels: 'ticket OPS-12' is not key=value")
    expect(page.locator("[name='labels'][aria-invalid=true]")).to_have_count(1)
    expect(page.locator("[name='arg:account']")).to_have_value("acme")
    expect(page.locator("[name='arg:tier']")).to_have_value("silver")
    shot(page, request, "refused")
    assert new_job_site.deck.store.count_jobs(JobFilter()) == 0

    page.fill("[name='labels']", "ticket=OPS-12")
    page.locator("#new-job-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/jobs\?job=\d+$"))
    job_id = int(page.url.rsplit("=", 1)[1])
    drawer = page.locator("#drawer")
    expect(drawer).to_have_class(re.compile(r"\bopen\b"))
    expect(drawer.locator(".drawer-panel")).to_have_attribute("data-job-id", str(job_id))
    expect(drawer.locator("h2")).to_have_text("reports.build")
    expect(drawer.locator(".drawer-head .badge")).to_have_text("Success", timeout=15_000)
    expect(drawer).to_contain_text("3 silver report(s) for acme due 2025-01-31")
    actions = drawer.locator(".operator-actions li")
    expect(actions).to_have_count(1)
    expect(actions).to_contain_text("enqueue by tester@example.com")
    expect(actions).to_contain_text("customer asked")
    shot(page, request, "drawer")

    job = new_job_site.deck.store.get_job(job_id)
    assert job is not None
    assert job.args == {
        "account": "acme", "count": 3, "due": "2025-01-31", "tier": "silver", "urgent": True,
    }  # fmt: skip
    assert job.labels["ticket"] == "OPS-12"
    [row] = new_job_site.deck.store.list_audit(AuditFilter(action_type="enqueue"), 5)
    assert row.details["job_id"] == job_id and row.details["reason"] == "customer asked"
