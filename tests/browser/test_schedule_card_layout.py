"""The guide's card layout (issue 16, item 10): name, description and frequency on the left;
the status, Run Now and the last run on the right, Run Now in the top-right corner by the
status; on a phone the two sides stack and the status row comes first under the name."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Site, shot

NAME = "check-sla-and-overdue"


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def open_card(page: Page, site: Site, width: int) -> Locator:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site.url}/schedules")
    card = page.locator(f"[data-schedule='{NAME}']")
    expect(card.locator("[data-badge]")).to_be_visible()
    return card


@pytest.mark.parametrize("width", [768, 1440])
def test_run_now_sits_top_right_beside_the_status(
    page: Page, site: Site, width: int, request: pytest.FixtureRequest
) -> None:
    card = open_card(page, site, width)
    frame, title = box(card), box(card.locator("h2"))
    frequency, description = box(card.locator(".frequency")), box(card.locator(".description"))
    badge, run_now = (
        box(card.locator("[data-badge]")),
        box(card.get_by_role("button", name="Run Now")),
    )
    last_run = box(card.locator("dt", has_text="Last run"))
    left_edge = max(title["x"] + title["width"], frequency["x"] + frequency["width"])
    for right_side in (badge, run_now, last_run):
        assert right_side["x"] >= left_edge - 1, "status, Run Now and last run on the right"
    assert description["x"] < badge["x"], "the description on the left"
    assert run_now["x"] + run_now["width"] > frame["x"] + frame["width"] - 120, "at the right edge"
    assert run_now["y"] - frame["y"] < 60, "in the card's top corner"
    badge_bottom = badge["y"] + badge["height"]
    assert run_now["y"] < badge_bottom + 16, "beside the status, or just under it on a narrow card"
    shot(page, request, f"card-{width}")


def test_on_a_phone_the_status_row_comes_first_under_the_name(page: Page, site: Site) -> None:
    card = open_card(page, site, 375)
    frame, frequency = box(card), box(card.locator(".frequency"))
    badge, run_now = (
        box(card.locator("[data-badge]")),
        box(card.get_by_role("button", name="Run Now")),
    )
    assert badge["y"] > frequency["y"], "stacked: the status under the name and frequency"
    assert abs(run_now["y"] - badge["y"]) < 20 and run_now["x"] > badge["x"], "one row"
    assert run_now["x"] + run_now["width"] <= frame["x"] + frame["width"], "inside the card"
