"""Schedules named as @deck.periodic names them when no name= is given (module.qualname, with
dots), or with a slash, spaces and other scripts: Run Now, Pause and Resume work on their cards
in a real browser, which needs element ids that are valid selectors and URLs encoded right."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from jobdeck.store.base import JobFilter
from jobdeck.worker.scheduler import Scheduler
from tests.browser import apps
from tests.browser.conftest import dashboard, shot
from tests.browser.harness import LiveServer, RunningWorker, click_sending

DOTTED = "app.tasks.nightly_report"
ODD = "reports/weekly ☃ «summary»"


@dataclass
class DottedSite:
    url: str
    deck: JobDeck


def nightly_report() -> dict[str, Any]:
    return {"rows": 42, "summary": "42 rows reported"}


@pytest.fixture(scope="module")
def dotted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DottedSite]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dotted') / 'jobs.db'}"
    deck = JobDeck(url, **apps.FAST)
    nightly_report.__module__, nightly_report.__qualname__ = "app.tasks", "nightly_report"
    deck.periodic(cron="0 3 * * *", title="Nightly Report")(nightly_report)  # no name=
    deck.periodic(name=ODD, cron="0 4 * * 1")(lambda: {"summary": "sent"})
    assert set(deck.schedules) == {DOTTED, ODD}
    deck.migrate()
    Scheduler(deck).sync()
    worker = RunningWorker(deck, scheduler_enabled=False).start()
    server: LiveServer | None = None
    try:
        server = LiveServer(dashboard(deck)).start()
        yield DottedSite(server.url, deck)
    finally:
        if server is not None:
            server.stop()
        worker.stop()
        deck.close()


def toast(page: Page, text: str) -> None:
    expect(page.locator("#toasts .toast", has_text=text)).to_have_count(1, timeout=15_000)


@pytest.mark.parametrize("name", [DOTTED, ODD])
def test_run_now_pause_and_resume_update_the_card(
    page: Page, dotted: DottedSite, request: pytest.FixtureRequest, name: str
) -> None:
    page.goto(f"{dotted.url}/schedules")
    expect(page.locator("#health-pill")).not_to_have_text("Checking…")  # htmx ran
    page.evaluate("window.notReloaded = true")
    card = page.locator(f"[data-schedule={css_string(name)}]")
    expect(card).to_have_count(1)
    badge = card.locator("[data-badge]")

    click_sending(page, card.get_by_role("button", name="Run Now"), "/run")
    toast(page, "queued, starting now")
    expect(badge).to_have_text("Success", timeout=15_000)
    toast(page, "Job executed successfully")
    runs = dotted.deck.store.list_jobs(JobFilter(schedule=name), None, 10)
    assert [job.state for job in runs] == ["succeeded"]

    click_sending(page, card.get_by_role("button", name="Pause"), "/pause")
    toast(page, f"{name} paused")
    expect(card.locator(".tag", has_text="Paused")).to_be_visible()
    expect(card.locator("dt:text-is('Next run') + dd")).to_have_text("Paused")
    assert dotted.deck.store.list_schedules(name=name)[0].paused
    shot(page, request, "paused")

    click_sending(page, card.get_by_role("button", name="Resume"), "/resume")
    toast(page, f"{name} resumed")
    expect(card.get_by_role("button", name="Pause")).to_be_visible()
    expect(card.locator(".tag", has_text="Paused")).to_have_count(0)
    assert not dotted.deck.store.list_schedules(name=name)[0].paused

    card.locator("details.runs summary").click()  # the runs list, by the card's encoded URL
    expect(card.locator(".runs-table tbody tr")).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True, "no page reload"


def css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
