"""Job dependencies in a real browser: the drawer of a waiting job says what it waits for and
links its parents, a parent's drawer links its children, a link opens the other job's drawer,
and the child's drawer follows it from Waiting to Success once a worker ran its parents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from tests.browser import apps
from tests.browser.conftest import LIVE_REFRESH, as_admin, shot
from tests.browser.harness import LiveServer, RunningWorker

POLLED = LIVE_REFRESH * 1000 * 4


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, JobDeck]]:
    folder = tmp_path_factory.mktemp("dependencies")
    deck = JobDeck(f"sqlite:///{folder / 'jobs.db'}", **apps.FAST)

    @deck.task(name="extract")
    def extract(doc: int) -> dict[str, int]:
        return {"doc": doc}

    @deck.task(name="report")
    def report() -> str:
        return "built"

    deck.migrate()
    server = LiveServer(deck.asgi(authorize=as_admin, live_refresh=LIVE_REFRESH)).start()
    try:
        yield server.url, deck
    finally:
        server.stop()
        deck.close()


def test_the_drawer_links_parents_and_children_and_follows_the_wait(
    page: Page, served: tuple[str, JobDeck], request: pytest.FixtureRequest
) -> None:
    url, deck = served
    one, two = deck.tasks["extract"].enqueue(doc=1), deck.tasks["extract"].enqueue(doc=2)
    child = deck.tasks["report"].enqueue(after=[one, two])

    page.goto(f"{url}/jobs?job={child.id}")
    head = page.locator("#drawer-live .drawer-head .badge")
    expect(head).to_have_text("Waiting")
    expect(page.locator(".waiting-because")).to_have_text(
        "waiting for 2 of 2 parent jobs to succeed"
    )
    parents = page.locator("#drawer-parents li")
    expect(parents).to_have_count(2)
    expect(parents.first).to_contain_text(f"#{one.id} extract")
    expect(parents.first.locator(".badge")).to_have_text("Pending")
    shot(page, request, "waiting")

    page.click(f"#drawer-parents [data-job-link='{one.id}']")
    expect(page.locator("#drawer-title")).to_have_text("extract")
    expect(page.locator("#drawer-children li")).to_contain_text(f"#{child.id} report")
    expect(page.locator("#drawer-parents")).to_have_count(0)

    page.click(f"#drawer-children [data-job-link='{child.id}']")
    expect(page.locator("#drawer-title")).to_have_text("report")
    worker = RunningWorker(deck, scheduler_enabled=False).start()
    try:
        expect(head).to_have_text("Success", timeout=POLLED)
    finally:
        worker.stop()
    expect(page.locator("#drawer-parents .badge")).to_have_text(["Success", "Success"])
    expect(page.locator(".waiting-because")).to_have_count(0)
