"""The Queues and Workers pages in Chromium, on both stores: pause a queue and see its backlog
wait, resume it and see it drain; see a worker's running job, open its drawer, and drain and
stop the worker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from jobdeck.states import JobState
from jobdeck.store.base import AuditFilter
from tests.browser import apps
from tests.browser.conftest import dashboard, shot
from tests.browser.harness import LiveServer, RunningWorker, wait_until

# The issue-17 console's pages, in Chromium on both stores (tests/conftest.py).
pytestmark = pytest.mark.both_stores

HOLD = threading.Event()  # the "report" task runs until this is set


@dataclass
class Fleet:
    url: str
    deck: JobDeck
    worker: RunningWorker


@pytest.fixture
def fleet(db_url: str) -> Iterator[Fleet]:
    """A deck with a quick "mail" task and a held "report" task, a worker serving both queues
    and the dashboard."""
    HOLD.clear()
    deck = JobDeck(db_url, **apps.FAST)
    deck.task(name="send_mail", queue="mail")(lambda to: {"sent": to})

    @deck.task(name="build_report")
    def build_report(rows: int) -> dict[str, int]:
        HOLD.wait(30)
        return {"rows": rows}

    worker = RunningWorker(deck, queues=("default", "mail"), scheduler_enabled=False).start()
    server = LiveServer(dashboard(deck)).start()
    try:
        yield Fleet(server.url, deck, worker)
    finally:
        HOLD.set()
        server.stop()
        if worker.thread.is_alive():
            worker.stop()
        deck.close()


def state_of(deck: JobDeck, job_id: int) -> JobState | None:
    job = deck.store.get_job(job_id)
    return job.state if job else None


def queue_row(page: Page, queue: str) -> Any:
    return page.locator(f"#queue-table tr.queue-row[data-queue='{queue}']")


def test_pausing_a_queue_holds_its_jobs_and_resuming_runs_them(
    page: Page, fleet: Fleet, request: pytest.FixtureRequest
) -> None:
    deck = fleet.deck
    page.goto(f"{fleet.url}/queues")
    expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text("Queues")
    mail = queue_row(page, "mail")
    expect(mail).to_have_count(1)
    expect(mail.locator("td.workers")).to_have_text("1")

    page.fill("#fleet-reason", "SMTP relay down")
    mail.locator("button.queue-action").click()
    expect(page.locator("#toasts .toast", has_text="mail paused")).to_have_count(1)
    expect(queue_row(page, "mail").locator(".tag-paused")).to_have_text("Paused")
    assert fleet.worker.worker.heartbeat.wait_ticks(2, 10)  # the worker has read the pause

    job = deck.tasks["send_mail"].enqueue(to="a@example.com")
    expect(queue_row(page, "mail").locator("td.pending")).to_have_text("1", timeout=10_000)
    assert state_of(deck, job.id) == JobState.AVAILABLE
    shot(page, request, "paused")

    queue_row(page, "mail").locator("button.queue-action").click()
    expect(page.locator("#toasts .toast", has_text="mail resumed")).to_have_count(1)
    wait_until(lambda: state_of(deck, job.id) == JobState.SUCCEEDED, 10, "the held mail to run")
    expect(queue_row(page, "mail").locator("td.pending")).to_have_text("0", timeout=10_000)
    expect(queue_row(page, "mail").locator(".tag-paused")).to_have_count(0)

    rows = deck.store.list_audit(AuditFilter(executions=False), 10)
    pause = next(r for r in rows if r.action_type == "pause_queue")
    assert pause.target == "queue mail" and pause.details["reason"] == "SMTP relay down"


def test_a_worker_shows_its_running_job_and_drains_and_stops(
    page: Page, fleet: Fleet, request: pytest.FixtureRequest
) -> None:
    deck = fleet.deck
    job = deck.tasks["build_report"].enqueue(rows=3)
    wait_until(lambda: state_of(deck, job.id) == JobState.RUNNING, 10, "the report to start")
    worker_id = fleet.worker.worker.id

    page.goto(f"{fleet.url}/workers")
    row = page.locator(f"#worker-table tr.worker-row[data-worker-id='{worker_id}']")
    expect(row).to_have_attribute("data-status", "running")
    expect(row.locator("td.busy")).to_have_text("1 / 8")
    expect(row.locator("td.running-jobs a")).to_have_attribute("href", f"jobs?job={job.id}")
    shot(page, request, "running")

    row.locator("td.running-jobs a").click()
    expect(page.locator("#drawer.open")).to_have_count(1)
    expect(page.locator("#drawer")).to_contain_text("build_report")

    page.goto(f"{fleet.url}/workers")
    page.fill("#fleet-reason", "host maintenance")
    row.locator("button.worker-action").click()
    expect(page.locator("#toasts .toast", has_text="asked to drain and stop")).to_have_count(1)
    expect(row).to_have_attribute("data-status", "draining", timeout=10_000)
    expect(row.locator("button.worker-action")).to_have_count(0)

    HOLD.set()  # the running job finishes; then the worker exits on its own
    fleet.worker.thread.join(15)
    assert not fleet.worker.thread.is_alive()
    assert state_of(deck, job.id) == JobState.SUCCEEDED
    expect(row).to_have_attribute("data-status", "stopped", timeout=10_000)


@pytest.mark.parametrize("path", ["queues", "workers"])
@pytest.mark.parametrize("width", [375, 1440])
def test_no_sideways_scrolling_at_each_width(
    page: Page, fleet: Fleet, path: str, width: int
) -> None:
    fleet.deck.tasks["build_report"].enqueue(rows=1)  # a running job in the Workers table
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{fleet.url}/{path}")
    expect(page.locator(f"#{path[:-1]}-table table")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
    action = page.locator("button.queue-action, button.worker-action").first
    expect(action).to_be_in_viewport(ratio=1)  # the whole button, not a sliver of it
