"""The guide's Common Scenarios walked through on the demo (issue 16, item 12): the Tasks
page lists what the SLA check found and lets people act on it (Scenario 1); the analytics
dashboard charts the snapshots and shows a re-run arriving (Scenario 3); every page of the
host reads on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jobdeck.demo.app import deck
from jobdeck.demo.data import EMPTY_SNAPSHOT_TENANT
from tests.browser.conftest import shot
from tests.browser.demo_harness import DemoSite, demo_site

OVERDUE = "SELECT COUNT(*) AS n FROM tasks WHERE status <> 'done' AND due_at < :now"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    path: Path = tmp_path_factory.mktemp("demo-scenarios") / "jobdeck.db"
    with demo_site(f"sqlite:///{path}") as running:
        yield running


def overdue_now(site: DemoSite) -> int:
    return int(site.db().rows(OVERDUE, {"now": deck.clock.now()})[0]["n"])


def test_scenario_1_review_assign_reschedule_and_note_the_overdue_tasks(
    page: Page, site: DemoSite, request: pytest.FixtureRequest
) -> None:
    site.sign_in(page, "partner")
    found = overdue_now(site)
    assert found > 1
    page.get_by_role("link", name="Overdue tasks").click()
    expect(page).to_have_url(f"{site.url}/tasks?show=overdue")
    finding = page.locator("#sla-finding")
    expect(finding).to_contain_text(f"found {found} overdue tasks")
    expect(finding).to_contain_text(f"Now {found} tasks are overdue.")
    tip = finding.get_by_role("note", name="About SLA & Overdue Check")
    tip.hover()
    expect(tip.locator(".tip")).to_be_visible()
    expect(tip.locator(".tip")).to_contain_text("Runs every 15 minutes")
    expect(tip.locator(".tip")).to_contain_text("older than 30 minutes")
    rows = page.locator("#task-table tbody tr")
    expect(rows).to_have_count(found)
    expect(rows.first.locator(".badge")).to_contain_text("overdue by")
    expect(rows.first).to_contain_text(re.compile(r"\d+ rules?"))  # escalated (step 4)
    shot(page, request, "overdue")

    first = rows.first
    title = first.get_by_role("link").inner_text()
    first.get_by_role("link").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    escalations = page.locator("#escalations tbody tr")
    expect(escalations.first).to_contain_text("Escalate tasks overdue by 2 days")
    page.get_by_label("Assigned to").select_option(label="Asha Rao (partner, Acme Legal LLP)")
    later = (deck.clock.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Due (UTC)").fill(later)
    page.get_by_label("Reason for the delay").select_option("Court adjournment")
    page.get_by_label("Note").fill("Tribunal adjourned the hearing by a week.")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/tasks\?show=overdue&saved=\d+$"))
    expect(page.locator("#saved")).to_contain_text(f"Saved “{title}”")
    expect(page.locator("#saved")).to_contain_text("assigned to Asha Rao")
    expect(rows).to_have_count(found - 1)
    expect(page.locator("#overdue-now")).to_have_text(str(found - 1))

    page.get_by_role("link", name="All", exact=True).click()
    page.locator("#task-table tr", has_text="1 note").first.get_by_role("link").click()
    expect(page.locator("#notes")).to_contain_text(
        "Court adjournment: Tribunal adjourned the hearing by a week."
    )
    expect(page.locator("#notes")).to_contain_text("partner@demo.jobdeck")

    # The check, run again from Background Jobs, now finds one fewer.
    page.goto(f"{site.url}/dev/jobs/schedules")
    page.locator("[data-schedule='check-sla-and-overdue']").get_by_role(
        "button", name="Run Now"
    ).click()
    expect(page.locator("#toasts .toast", has_text="Job executed successfully")).to_contain_text(
        f"{found - 1} overdue tasks found", timeout=15_000
    )
    page.goto(f"{site.url}/tasks")
    expect(page.locator("#sla-finding")).to_contain_text(f"found {found - 1} overdue tasks")


def test_scenario_3_the_snapshots_over_time_and_a_rerun_arriving(
    page: Page, site: DemoSite, request: pytest.FixtureRequest
) -> None:
    site.sign_in(page, "admin")
    today = deck.clock.now().date()
    yesterday = today - timedelta(days=1)
    active = site.db().rows(
        "SELECT COUNT(*) AS n FROM cases WHERE tenant_id = :t AND status = 'active'",
        {"t": EMPTY_SNAPSHOT_TENANT},
    )[0]["n"]
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()
    expect(page.locator("#snapshot-chart[data-ready] canvas")).to_have_count(1)
    expect(page.locator(".chart-keys li")).to_have_text(
        ["Active cases", "Open tasks", "Hearings in the next 7 days"]
    )
    warning = page.locator("#zero-warning")
    expect(warning).to_contain_text("1 snapshot of Acme Legal LLP count 0 active cases")
    expect(warning).to_contain_text(yesterday.strftime("%d %b"))
    expect(warning).to_contain_text(f"though {active} cases are active now")
    days = page.locator("#snapshot-days tbody tr")
    expect(days).to_have_count(14)
    yesterday_row = page.locator(f"tr[data-day='{yesterday.isoformat()}'] td")
    expect(yesterday_row.nth(1)).to_have_text("0")
    today_row = page.locator(f"tr[data-day='{today.isoformat()}'] td")
    expect(today_row.nth(1)).to_have_text(str(active))

    box = page.locator("#snapshot-chart .u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    expect(page.locator("#chart-readout")).to_contain_text(f"Active cases {active}")
    shot(page, request, "analytics")

    # Step 1-3: a case opens, Run Now, and today's snapshot counts it (replacing, not adding).
    site.db().execute(
        "INSERT INTO cases (tenant_id, case_number, title, owner_id, sla_hours, status, "
        "created_at) VALUES (:t, 'GST/2025/0099', 'New appeal', 1, 72, 'active', :now)",
        {"t": EMPTY_SNAPSHOT_TENANT, "now": deck.clock.now()},
    )
    page.locator("#snapshot-job").get_by_role("link", name="Run Now on Background Jobs").click()
    card = page.locator("[data-schedule='capture-analytics-snapshot']")
    card.get_by_role("button", name="Run Now").click()
    expect(page.locator("#toasts .toast", has_text="Job executed successfully")).to_contain_text(
        "6 metrics captured for 2 tenants", timeout=15_000
    )
    page.goto(f"{site.url}/analytics")
    expect(today_row.nth(1)).to_have_text(str(active + 1))
    expect(days).to_have_count(14)

    page.get_by_role("link", name="Sharma & Associates").click()
    expect(page).to_have_url(re.compile(r"tenant=sharma-associates"))
    expect(page.locator("#zero-warning")).to_have_count(0)
    page.get_by_role("link", name="30 days").click()
    expect(days).to_have_count(30)
    expect(
        page.locator(f"tr[data-day='{(today - timedelta(days=20)).isoformat()}']")
    ).to_contain_text("no snapshot")


PHONE_PAGES = [
    "/",
    "/tasks",
    "/tasks?show=overdue",
    "/analytics",
    "/dev",
    "/dev/tools",
    "/dev/environment",
    "/help/background-jobs",
    "/help/feedback",
]


def test_every_host_page_reads_on_a_phone(
    browser: object, site: DemoSite, request: pytest.FixtureRequest
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None
    )
    try:
        site.sign_in(page, "admin")
        for path in PHONE_PAGES:
            page.goto(site.url + path)
            expect(page.locator("h1").first).to_be_visible()
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{path} is {wide}px wider than the phone"
        page.goto(site.url + "/tasks?show=overdue")
        page.get_by_label("Profile menu of Demo Admin").click()
        expect(page.get_by_role("link", name="Dev Mode")).to_be_visible()
        page.screenshot(path=Path(__file__).parent / "artifacts" / "demo-phone-tasks.png")
    finally:
        context.close()
    assert not errors, errors
