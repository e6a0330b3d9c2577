"""The guide's Before / During / After of a run (issue 16, item 2): the demo's jobs take
seconds as real ones do, so a card shows Success, then Running "Just now", then Success."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jobdeck.demo.app import deck
from jobdeck.demo.litigation import PACE_ENV
from jobdeck.store.base import JobFilter
from tests.browser.demo_harness import DemoSite, demo_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    path: Path = tmp_path_factory.mktemp("demo-durations") / "jobdeck.db"
    with demo_site(f"sqlite:///{path}") as running:
        yield running


def test_a_run_is_seen_running_on_its_card_then_succeeds(
    page: Page, site: DemoSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PACE_ENV, "1")  # as `jobdeck demo` runs them: the SLA check takes 2 s+
    site.sign_in(page, "admin")
    page.goto(f"{site.url}/dev/jobs/schedules")
    card = page.locator("[data-schedule='check-sla-and-overdue']")
    badge = card.locator("[data-badge]")
    expect(badge).to_have_text("Success")
    card.get_by_role("button", name="Run Now").click()
    expect(badge).to_have_text("Running", timeout=5_000)
    expect(card).to_contain_text("Just now")
    expect(page.locator("#toasts .toast", has_text="Job executed successfully")).to_contain_text(
        re.compile(r"overdue tasks? found"), timeout=20_000
    )
    expect(badge).to_have_text("Success")
    (run,) = deck.store.list_jobs(JobFilter(schedule="check-sla-and-overdue"), None, 1)
    assert run.duration_ms is not None and run.duration_ms >= 2_000  # "2-10 seconds"
