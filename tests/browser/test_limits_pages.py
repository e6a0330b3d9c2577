"""Limits in Chromium, on both stores: with a mail queue limited to one job at once and a worker
running one, the Queues page shows the limit full and the waiting job's drawer says why; once
the running job ends, the drawer's line goes and the job runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from jobdeck.states import JobState
from tests.browser import apps
from tests.browser.conftest import dashboard, shot
from tests.browser.harness import LiveServer, RunningWorker, wait_until

HOLD = threading.Event()  # the mail task runs until this is set


@dataclass
class Limited:
    url: str
    deck: JobDeck


@pytest.fixture
def limited(db_url: str) -> Iterator[Limited]:
    HOLD.clear()
    deck = JobDeck(db_url, **apps.FAST, queue_limits={"mail": 1})
    deck.task(name="send_mail", queue="mail")(lambda: HOLD.wait(30))
    worker = RunningWorker(deck, queues=("mail",), scheduler_enabled=False).start()
    server = LiveServer(dashboard(deck)).start()
    try:
        yield Limited(server.url, deck)
    finally:
        HOLD.set()
        server.stop()
        if worker.thread.is_alive():
            worker.stop()
        deck.close()


def state_of(deck: JobDeck, job_id: int) -> JobState | None:
    job = deck.store.get_job(job_id)
    return job.state if job else None


def test_a_job_waiting_on_a_full_queue_says_why_until_its_slot_frees(
    page: Page, limited: Limited, request: pytest.FixtureRequest
) -> None:
    deck = limited.deck
    first, second = deck.tasks["send_mail"].enqueue_many([{}, {}])
    wait_until(lambda: state_of(deck, first.id) == JobState.RUNNING, 10, "the first to start")

    page.goto(f"{limited.url}/queues")
    row = page.locator("#queue-table table.limits tr.limit-row")
    expect(row).to_have_count(1)
    expect(row).to_have_class("limit-row full")
    expect(row).to_contain_text("queue mail")
    expect(row).to_contain_text("1/1 running")

    page.goto(f"{limited.url}/jobs?job={second.id}")
    line = page.locator("#drawer-live .waiting-because")
    expect(line).to_have_text("waiting: 1/1 of queue mail running")
    shot(page, request, "waiting")
    assert state_of(deck, second.id) == JobState.AVAILABLE

    HOLD.set()
    expect(line).to_have_count(0, timeout=10_000)
    wait_until(lambda: state_of(deck, second.id) == JobState.SUCCEEDED, 10, "the second to run")
