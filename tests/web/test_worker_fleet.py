"""The expected fleet: fewer heartbeating workers than ``expected_workers`` turn the pill
amber with "2 of 3"; a worker that went silent without stopping shows as lost, with its
host and when, for an hour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from jobdeck import JobDeck, ManualClock, control
from jobdeck.store.base import WorkerInfo
from jobdeck.web.access import local_operator

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def beat(
    deck: JobDeck, name: str, seconds_ago: float, state: str = "running", offset: int | None = None
) -> None:
    at = NOW - timedelta(seconds=seconds_ago)
    deck.store.register_worker(WorkerInfo(name, f"host-{name}", 4000, ("default",), 4, at, at))
    deck.store.heartbeat_worker(name, at, state, offset)


@pytest.fixture
def fleet(db_url: str) -> Iterator[JobDeck]:
    deck = JobDeck(db_url, clock=ManualClock(NOW), expected_workers=3, heartbeat_interval=5)
    beat(deck, "a", 2)
    beat(deck, "b", 4)
    beat(deck, "c", 90)  # silent for 90 s: lost
    beat(deck, "d", 60, state="stopped")  # stopped on purpose: not lost
    beat(deck, "e", 2 * 3600)  # silent for 2 h: no longer shown
    yield deck
    deck.close()


def health_of(deck: JobDeck) -> control.Health:
    settings = deck.settings
    return control.worker_health(
        deck.store, deck.clock, settings.heartbeat_interval, settings.expected_workers
    )


def test_fewer_workers_than_expected_is_degraded_and_names_the_lost_one(fleet: JobDeck) -> None:
    health = health_of(fleet)
    assert health.level == "degraded" and not health.healthy
    assert health.reason == "2 of 3 workers heartbeating"
    assert [w.id for w in health.lost] == ["c"]


def test_enough_workers_is_healthy_and_still_reports_the_lost(fleet: JobDeck) -> None:
    beat(fleet, "f", 1)
    health = health_of(fleet)
    assert health.level == "healthy" and [w.id for w in health.lost] == ["c"]


def test_the_pill_is_amber_with_the_count_and_the_page_names_the_lost_host(
    fleet: JobDeck,
) -> None:
    client = TestClient(fleet.asgi(authorize=local_operator))
    html = client.get("/health").text
    assert 'class="pill pill-degraded"' in html and "2 of 3 Workers" in html
    assert "1 lost" in html
    assert "Worker lost: <strong>host-c</strong>" in html and "2026-12-03 11:58:30" in html
    # Swapped out of band into the page's notices, under the top bar.
    assert 'id="worker-notices" class="worker-notices" hx-swap-oob="true"' in html
    assert 'id="worker-notices"' in client.get("/jobs").text


def test_the_api_reports_the_level_the_floor_and_the_lost_workers(fleet: JobDeck) -> None:
    client = TestClient(fleet.asgi(authorize=local_operator))
    workers = client.get("/api/workers").json()
    assert (workers["level"], workers["expected_workers"]) == ("degraded", 3)
    assert [w["host"] for w in workers["lost"]] == ["host-c"]
    assert sorted(w["id"] for w in workers["workers"]) == ["a", "b"]
    health = client.get("/api/health")
    assert health.status_code == 503 and health.json() == {"status": "degraded"}


def test_a_host_whose_clock_is_off_is_named_with_its_offset(fleet: JobDeck) -> None:
    beat(fleet, "skewed", 1, offset=-3400)
    client = TestClient(fleet.asgi(authorize=local_operator))
    html = client.get("/health").text
    assert "Clock skew: <strong>host-skewed</strong> (pid 4000) runs 3.4 s" in html
    assert "behind" in html and "host-skewed pid 4000 clock -3400 ms" in html
    assert "Clock skew: <strong>host-a</strong>" not in html  # no offset measured
    offsets = {w["id"]: w["clock_offset_ms"] for w in client.get("/api/workers").json()["workers"]}
    assert offsets["skewed"] == -3400 and offsets["a"] is None
