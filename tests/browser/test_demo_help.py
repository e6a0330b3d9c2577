"""Help in the demo (issue 16, item 13): the Help menu, the operator's guide written for
jobdeck (cards, badges, thresholds, the four scenarios with the SQLite form of the guide's
SQL, the FAQ), the info tips beside job names, and the feedback form that admins read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jobdeck.demo.guide_sql import BY_KEY
from tests.browser.conftest import shot
from tests.browser.demo_harness import DemoSite, demo_site

THRESHOLDS = [
    ("SLA & Overdue Check", "Every 15 minutes (Asia/Kolkata)", "15 minutes", "> 30 minutes"),
    ("Hearing Reminders", "Daily at 8:00 AM (Asia/Kolkata)", "24 hours", "> 36 hours"),
    ("Analytics Snapshot", "Daily at 11:55 PM (Asia/Kolkata)", "24 hours", "> 36 hours"),
    ("Deadline Alerts", "Daily at 9:00 AM (Asia/Kolkata)", "24 hours", "> 36 hours"),
    ("Automation Health Check", "Daily at 6:30 AM (Asia/Kolkata)", "24 hours", "> 36 hours"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    path: Path = tmp_path_factory.mktemp("demo-help") / "jobdeck.db"
    with demo_site(f"sqlite:///{path}") as running:
        yield running


def test_the_help_menu_opens_the_operators_guide(
    page: Page, site: DemoSite, request: pytest.FixtureRequest
) -> None:
    site.sign_in(page, "manager")  # the guide is for everyone who signs in
    page.locator("#help-menu summary").click()
    menu = page.get_by_role("navigation", name="Help")
    expect(menu.get_by_role("link")).to_have_text(
        ["Background Jobs", "Job Monitoring", "Submit Feedback"]
    )
    menu.get_by_role("link", name="Background Jobs").click()
    expect(page).to_have_url(f"{site.url}/help/background-jobs")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Background Jobs: the operator's guide"
    )
    sections = page.locator("article.guide h2")
    for heading in (
        "Who can see it, and where",
        "The job cards",
        "Status badges",
        "Last Run times and thresholds",
        "Run Now",
        "Reading job logs",
        "Common scenarios",
        "Daily and weekly routine",
        "Frequently asked questions",
    ):
        expect(sections.filter(has_text=heading)).to_have_count(1)
    expect(page.locator("#scenarios h3")).to_have_text(
        [
            'Scenario 1: "SLA Check Shows 10 Overdue Tasks"',
            'Scenario 2: "Hearing Reminder Failed"',
            'Scenario 3: "Analytics Snapshot Missing Data"',
            "Scenario 4: \"All Jobs Showing Old 'Last Run' Times\"",
        ]
    )
    badges = page.locator("#badges tbody tr td:first-child")
    expect(badges).to_have_text(["Running", "Success", "Failed", "Pending"])
    rows = page.locator("#thresholds-table tbody tr")
    expect(rows).to_have_count(5)
    for index, (title, runs, age, alert) in enumerate(THRESHOLDS):
        expect(rows.nth(index).locator(".job-name")).to_have_text(title)
        expect(rows.nth(index).locator("td").nth(1)).to_have_text(runs)
        expect(rows.nth(index).locator("td").nth(2)).to_have_text(age)
        expect(rows.nth(index).locator("td").nth(3)).to_have_text(alert)

    tip = rows.nth(0).get_by_role("note", name="About SLA & Overdue Check")
    tip.hover()
    expect(tip.locator(".tip")).to_be_visible()
    expect(tip.locator(".tip")).to_contain_text("Checks tasks for SLA violations.")
    expect(tip.locator(".tip")).to_contain_text("Expected to run at least every 15 minutes")
    shot(page, request, "tip")

    faq = page.locator("#faq dt")
    expect(
        faq.filter(has_text="What is the difference between Running and Pending?")
    ).to_be_visible()
    expect(faq.filter(has_text="Can I switch a job off?")).to_be_visible()
    expect(page.locator("#faq")).to_contain_text("Pause on its card")
    page.get_by_role("link", name="Tasks page, Overdue").click()
    expect(page).to_have_url(f"{site.url}/tasks?show=overdue")


def test_the_guides_sql_has_its_sqlite_form_beside_it(page: Page, site: DemoSite) -> None:
    site.sign_in(page, "partner")
    page.goto(f"{site.url}/help/background-jobs")
    hearings = page.locator("#scenarios .sql-pair[data-query='hearings']")
    expect(hearings.locator("h4")).to_have_text(
        ["PostgreSQL (the guide's query, as written)", "SQLite · this demo's database"]
    )
    expect(hearings.locator("pre[data-dialect='postgres']")).to_have_text(
        BY_KEY["hearings"].postgres
    )
    expect(hearings.locator("pre[data-dialect='sqlite']")).to_contain_text(
        "h.hearing_date <= datetime('now', '+24 hours')"
    )
    audit = page.locator("#logs .sql-pair[data-query='audit']")
    expect(audit.locator("h4")).to_have_text(
        "PostgreSQL and SQLite (the guide's query, as written)"
    )
    snapshots = page.locator("#scenario-3 ~ .sql-pair[data-query='snapshots']")
    expect(snapshots).to_contain_text("WHERE tenant_id = 'your-tenant-id'")
    expect(snapshots).to_contain_text("'acme-legal' and 'sharma-associates'")
    expect(page.locator(".sql-pair[data-query='schedules']")).to_contain_text("FROM schedules")

    # Each one runs on this demo's SQLite database from Advanced Tools.
    page.goto(f"{site.url}/dev/tools")
    page.locator("tr[data-query='hearings']").get_by_role("button", name="Run").click()
    expect(page.locator("#ran-sql")).to_have_text(BY_KEY["hearings"].sqlite)
    expect(page.locator("#row-count")).to_contain_text("row")
    page.locator("tr[data-query='audit']").get_by_role("button", name="Run").click()
    expect(page.locator("#result-rows tbody tr").first).to_contain_text("background_job_execution")


def test_info_tips_beside_job_names_on_the_host_pages(page: Page, site: DemoSite) -> None:
    site.sign_in(page, "admin")
    for path, title in (
        ("/", "Hearing Reminders"),
        ("/dev", "Automation Health Check"),
        ("/analytics", "Analytics Snapshot"),
    ):
        page.goto(site.url + path)
        tip = page.get_by_role("note", name=f"About {title}").first
        tip.focus()  # a keyboard or a tap on a phone shows it as hover does
        expect(tip.locator(".tip")).to_be_visible()
        expect(tip.locator(".tip")).to_contain_text("Runs daily at")


def test_feedback_is_stored_and_shown_to_admins(
    page: Page, site: DemoSite, request: pytest.FixtureRequest
) -> None:
    site.sign_in(page, "partner")
    page.locator("#help-menu summary").click()
    page.get_by_role("link", name="Submit Feedback").click()
    page.get_by_label("Topic").select_option("Background Jobs guide")
    page.get_by_label("Your feedback").fill("Scenario 4 could say how to start a worker.")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.locator("#feedback-sent")).to_have_text("Thank you: your feedback was saved.")
    expect(page.locator("#received")).to_have_count(0)  # partners write, admins read
    stored = site.db().rows("SELECT author, topic, message FROM demo_feedback")
    assert stored == [
        {
            "author": "partner@demo.jobdeck",
            "topic": "Background Jobs guide",
            "message": "Scenario 4 could say how to start a worker.",
        }
    ]

    page.context.clear_cookies()
    site.sign_in(page, "admin")
    page.goto(f"{site.url}/dev")
    page.get_by_role("link", name="1", exact=True).click()  # Feedback received: 1
    expect(page).to_have_url(f"{site.url}/help/feedback#received")
    row = page.locator("#feedback-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("partner@demo.jobdeck")
    expect(row).to_contain_text("Scenario 4 could say how to start a worker.")
    shot(page, request, "received")

    page.get_by_role("button", name="Send feedback").click()  # empty: the browser refuses
    expect(page.locator("#feedback-sent")).to_have_count(0)
