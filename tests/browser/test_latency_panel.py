"""The Jobs page's latency panel in a real browser: the wait and duration charts draw, and the
by-task table's percentile columns show what the stats read from the rollups."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jobdeck import control
from jobdeck.web.formatting import ms_value
from tests.browser.conftest import Site, shot

# The issue-17 console's pages, in Chromium on both stores (tests/conftest.py).
pytestmark = pytest.mark.both_stores


def test_latency_charts_and_columns_render_the_rollups_percentiles(
    page: Page, site: Site, request: pytest.FixtureRequest
) -> None:
    page.goto(f"{site.url}/jobs?period=24h")
    for kind in ("wait", "duration"):
        chart = page.locator(f"#latency-{kind}[data-ready]")
        expect(chart).to_have_count(1)
        expect(chart.locator("canvas")).to_have_count(1)
    stats = control.stats(site.deck.store, site.deck.clock, "24h")
    assert stats.latency.overall.duration.count == stats.total > 0  # every attempt is in it
    data: dict[str, Any] = json.loads(
        page.locator("#latency-duration").get_attribute("data-latency-chart") or "{}"
    )
    assert data["bucket"] == 900 and len(data["x"]) == len(data["duration"]["p95"])
    assert any(v is not None for v in data["duration"]["p95"])
    assert any(v is not None for v in data["wait"]["p50"])

    overall = stats.latency.overall.wait
    expect(page.locator("[data-latency=wait]")).to_have_text(
        f"p50 {ms_value(overall.p50)} · p95 {ms_value(overall.p95)} · p99 {ms_value(overall.p99)}"
    )
    rows = page.locator(".breakdown tbody tr")
    expect(rows).to_have_count(len(stats.by_task))
    for index, task in enumerate(stats.by_task):
        latency = stats.latency.of_task(task.key)
        row = rows.nth(index)
        expect(row.locator("td.task")).to_have_text(task.key)
        for kind in ("wait", "duration"):
            percentiles = getattr(latency, kind)
            for q in ("p50", "p95", "p99"):
                expect(row.locator(f"[data-col={kind}-{q}]")).to_have_text(
                    ms_value(getattr(percentiles, q))
                )
    shot(page, request, "latency")


def test_the_latency_charts_are_drawn_again_after_a_period_switch(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/jobs?period=24h")
    expect(page.locator("#latency-wait[data-ready]")).to_have_count(1)
    page.locator(".period-bar a", has_text="7d").click()
    weekly = "[data-ready][data-latency-chart*='\"bucket\": 7200']"  # the swapped-in charts
    expect(page.locator(f"#latency-wait{weekly}")).to_have_count(1)
    expect(page.locator(f"#latency-duration{weekly} canvas")).to_have_count(1)
    assert page.locator("#latency-wait canvas").count() == 1, "one chart, redrawn"


@pytest.mark.parametrize(
    ("width", "shown"), [(375, []), (640, ["p95"]), (1024, ["p50", "p95", "p99"])]
)
def test_the_percentile_columns_appear_with_the_screen_width(
    page: Page, site: Site, width: int, shown: list[str]
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site.url}/jobs?period=24h")
    row = page.locator(".breakdown tbody tr").first
    expect(row.locator("td.task")).to_be_visible()
    for kind in ("wait", "duration"):
        for q in ("p50", "p95", "p99"):
            cell = row.locator(f"[data-col={kind}-{q}]")
            if q in shown:
                expect(cell).to_be_visible()
            else:
                expect(cell).to_be_hidden()
