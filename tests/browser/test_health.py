"""The worker health pill follows a real worker stopping and starting (refresh every 1 s)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jobdeck import JobDeck
from jobdeck.store.base import WorkerInfo
from tests.browser import apps
from tests.browser.conftest import HEALTH_REFRESH, dashboard, shot
from tests.browser.harness import LiveServer, RunningWorker

PILL_RGB = "getComputedStyle(document.getElementById('health-pill')).color.match(/\\d+/g)"
GREENISH = f"() => {{ const [r, g, b] = {PILL_RGB}.map(Number); return g > r && g > b; }}"
REDDISH = f"() => {{ const [r, g, b] = {PILL_RGB}.map(Number); return r > g && r > b; }}"


@dataclass
class HealthSite:
    url: str
    deck: JobDeck
    worker: RunningWorker


@pytest.fixture(scope="module")
def health_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HealthSite]:
    url = f"sqlite:///{tmp_path_factory.mktemp('health') / 'jobs.db'}"
    deck = apps.make_small_deck(url)
    deck.migrate()
    deck.tasks["ping"].enqueue(n=1)
    server = LiveServer(dashboard(deck)).start()
    state = HealthSite(server.url, deck, RunningWorker(deck).start())
    try:
        yield state
    finally:
        server.stop()
        if state.worker.thread.is_alive():
            state.worker.stop()
        deck.close()


def test_pill_turns_red_when_the_worker_stops_and_green_when_one_is_back(
    page: Page, health_site: HealthSite, request: pytest.FixtureRequest
) -> None:
    assert HEALTH_REFRESH <= 2
    page.goto(f"{health_site.url}/jobs")
    pill = page.locator("#health-pill")
    expect(pill).to_have_text("Worker Healthy")
    expect(pill).to_have_class(re.compile(r"pill-healthy"))
    pill.hover()
    expect(pill).to_have_attribute("title", re.compile(r"^Last heartbeat .*\d{2}:\d{2}:\d{2}"))
    page.wait_for_function(GREENISH)
    shot(page, request, "healthy")

    health_site.worker.stop()
    expect(pill).to_have_text("Worker Unhealthy", timeout=5_000)
    expect(pill).to_have_class(re.compile(r"pill-unhealthy"))
    page.wait_for_function(REDDISH)
    pill.hover()
    expect(pill).to_have_attribute("title", re.compile(r"^Unhealthy: \w.+"))  # the reason
    shot(page, request, "unhealthy")

    health_site.worker = RunningWorker(health_site.deck).start()
    expect(pill).to_have_text("Worker Healthy", timeout=5_000)
    expect(pill).to_have_class(re.compile(r"pill-healthy"))
    expect(pill).to_have_attribute("title", re.compile(r"1 worker\(s\) heartbeating"))


def test_after_a_worker_stops_the_pill_tells_when_it_last_beat(
    page: Page, health_site: HealthSite
) -> None:
    page.goto(f"{health_site.url}/jobs")
    pill = page.locator("#health-pill")
    expect(pill).to_have_text("Worker Healthy")
    health_site.worker.stop()
    try:
        expect(pill).to_have_text("Worker Unhealthy", timeout=5_000)
        # The worker did beat until it stopped: say when, not "no worker has sent a heartbeat".
        expect(pill).to_have_attribute(
            "title",
            re.compile(r"last heartbeat \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.I),
            timeout=3_000,  # three refreshes
        )
        expect(pill).not_to_have_attribute("title", re.compile("no worker has sent"))
    finally:
        health_site.worker = RunningWorker(health_site.deck).start()


def test_pill_is_red_with_the_reason_when_the_database_cannot_be_reached(
    page: Page, tmp_path: Path
) -> None:
    missing = tmp_path / "gone" / "jobs.db"
    deck = apps.make_small_deck(f"sqlite:///{missing}")
    server = LiveServer(dashboard(deck)).start()
    try:
        page.goto(f"{server.url}/jobs")
        pill = page.locator("#health-pill")
        expect(pill).to_have_text("Worker Unhealthy", timeout=3_000)  # three refreshes
        expect(pill).to_have_attribute("title", re.compile(r"^Unhealthy: .*database", re.I))
    finally:
        server.stop()
        deck.close()


def test_below_the_expected_fleet_the_pill_is_amber_and_a_lost_worker_is_named(
    page: Page, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    deck = apps.make_small_deck(f"sqlite:///{tmp_path / 'jobs.db'}", expected_workers=2)
    deck.migrate()
    silent_since = datetime.now(UTC) - timedelta(seconds=75)  # a SIGKILLed worker's last beat
    deck.store.register_worker(
        WorkerInfo("lost-1", "batch-host-7", 4242, ("default",), 4, silent_since, silent_since)
    )
    server = LiveServer(dashboard(deck)).start()
    worker = RunningWorker(deck).start()
    try:
        page.goto(f"{server.url}/jobs")
        pill = page.locator("#health-pill")
        expect(pill).to_have_text(re.compile(r"1 of 2 Workers\s+· 1 lost"))
        expect(pill).to_have_class(re.compile(r"pill-degraded"))
        expect(pill).to_have_attribute(
            "title", re.compile(r"^Degraded: 1 of 2 workers heartbeating")
        )
        notice = page.locator("#worker-notices .lost-worker")
        expect(notice).to_have_count(1)
        expect(notice).to_contain_text("Worker lost: batch-host-7 (pid 4242)")
        expect(notice).to_contain_text("ago")
        shot(page, request, "degraded")
    finally:
        worker.stop()
        server.stop()
        deck.close()
