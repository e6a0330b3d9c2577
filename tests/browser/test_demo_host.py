"""The demo's host application (issue 16, item 11): sign in, profile icon -> Dev Mode -> the
Dev Dashboard and its five tabs, the Background Jobs tab being the jobdeck dashboard mounted
with ``deck.asgi(authorize=...)`` on the host's sign-in, and what each role may open."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from jobdeck._version import __version__
from jobdeck.demo.app import deck
from tests.browser.conftest import shot
from tests.browser.demo_harness import DemoSite, demo_site

TABS = ["Overview", "Data Seeding", "Environment", "Advanced Tools", "Background Jobs"]
JOB_TITLES = [
    "SLA & Overdue Check",
    "Hearing Reminders",
    "Analytics Snapshot",
    "Deadline Alerts",
    "Automation Health Check",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    path: Path = tmp_path_factory.mktemp("demo-host") / "jobdeck.db"
    with demo_site(f"sqlite:///{path}") as running:
        yield running


def failed_requests(page: Page, site: DemoSite) -> list[str]:
    failures: list[str] = []

    def on_response(response: object) -> None:
        url, status = response.url, response.status  # type: ignore[attr-defined]
        if url.startswith(site.url) and status >= 400:
            failures.append(f"{status} {urlsplit(url).path}")

    page.on("response", on_response)
    return failures


def test_profile_icon_dev_mode_and_the_background_jobs_tab(
    page: Page, site: DemoSite, request: pytest.FixtureRequest
) -> None:
    failures = failed_requests(page, site)
    site.sign_in(page, "admin")
    expect(page).to_have_url(f"{site.url}/")
    page.get_by_label("Profile menu of Demo Admin").click()
    menu = page.locator("#profile-menu .menu-list")
    expect(menu).to_contain_text("admin@demo.jobdeck · admin")
    shot(page, request, "profile-menu")
    menu.get_by_role("link", name="Dev Mode").click()

    expect(page).to_have_url(f"{site.url}/dev")
    expect(page.get_by_role("heading", name="Dev Dashboard")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Dev Dashboard").get_by_role("link")
    expect(tabs).to_have_text(TABS)
    expect(page.get_by_role("link", name="Overview", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    checklist = page.locator("#checklist li")
    expect(checklist.first).to_contain_text("The worker is healthy")
    expect(checklist.first).to_have_attribute("data-ok", "true")
    expect(page.locator("#job-ages tbody tr .job-name")).to_have_text(JOB_TITLES)
    shot(page, request, "dev-dashboard")

    tabs.filter(has_text="Background Jobs").click()
    expect(page).to_have_url(f"{site.url}/dev/jobs/schedules")
    expect(page.get_by_role("heading", name="Scheduled jobs")).to_be_visible()
    expect(page.locator("#health-pill")).to_have_text("Worker Healthy")
    for title in JOB_TITLES:
        expect(page.locator(".schedule-card h2", has_text=title)).to_be_visible()
    expect(page.locator("#schedule-summary")).to_contain_text("scheduled jobs are healthy")
    card = page.locator("[data-schedule='check-sla-and-overdue']")
    card.get_by_role("button", name="Run Now").click()
    expect(page.locator("#toasts .toast", has_text="Job executed successfully")).to_contain_text(
        re.compile(r"Job executed successfully - \d+ overdue tasks? found"), timeout=15_000
    )
    shot(page, request, "background-jobs")

    page.get_by_role("link", name="← Dev Dashboard").click()
    expect(page).to_have_url(f"{site.url}/dev")
    assert not failures, failures


def test_a_signed_out_visitor_signs_in_on_the_host_and_comes_back(
    page: Page, site: DemoSite
) -> None:
    page.goto(f"{site.url}/dev/jobs/jobs?period=7d")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill("partner@demo.jobdeck")
    page.get_by_label("Password").fill(site.passwords["partner@demo.jobdeck"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/dev/jobs/jobs?period=7d")
    expect(page.locator("#health-pill")).to_have_text("Worker Healthy")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["demo_session"]["path"] == "/" and cookies["demo_session"]["httpOnly"]
    assert "jobdeck_session" not in cookies  # one sign-in: the host's

    page.goto(f"{site.url}/")
    page.get_by_label("Profile menu of Demo Partner").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/login")
    page.goto(f"{site.url}/dev/jobs/schedules")
    expect(page).to_have_url(f"{site.url}/login?next=/dev/jobs/schedules")


def test_other_roles_have_no_dev_mode_and_no_background_jobs(page: Page, site: DemoSite) -> None:
    site.sign_in(page, "manager")
    page.get_by_label("Profile menu of Demo Manager").click()
    menu = page.locator("#profile-menu .menu-list")
    expect(menu.get_by_role("link", name="Help")).to_be_visible()
    expect(menu.get_by_role("link", name="Dev Mode")).to_have_count(0)
    expect(
        page.get_by_text("Background jobs monitoring is for the Admin and Partner roles.")
    ).to_be_visible()

    page.goto(f"{site.url}/dev")
    expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()
    expect(
        page.get_by_text("The Dev Dashboard is for the Admin and Partner roles.")
    ).to_be_visible()
    page.goto(f"{site.url}/dev/jobs/schedules")
    expect(
        page.get_by_role("heading", name="You don't have access to background jobs.")
    ).to_be_visible()

    page.context.clear_cookies()
    site.sign_in(page, "attorney")
    page.get_by_role("navigation", name="Sections").get_by_role(
        "link", name="Expert search"
    ).click()
    expect(page).to_have_url(f"{site.url}/documents/search")


def test_environment_shows_the_decks_settings_and_versions(page: Page, site: DemoSite) -> None:
    site.sign_in(page, "partner")
    page.goto(f"{site.url}/dev")
    page.get_by_role("link", name="Environment").click()
    versions = page.locator("#versions")
    expect(versions.locator("tr", has_text="jobdeck")).to_contain_text(__version__)
    expect(versions.locator("tr", has_text="SQLite")).to_contain_text(sqlite3.sqlite_version)
    expect(versions.locator("tr", has_text="htmx.org (vendored)")).to_be_visible()
    expect(page.locator("#database-url")).to_contain_text("sqlite:///")
    heartbeat = page.locator("[data-setting='heartbeat_interval'] td")
    expect(heartbeat).to_have_text(["heartbeat_interval", "2.0", "code"])
    expect(page.locator("[data-setting='concurrency'] td").nth(1)).to_have_text("4")


def test_data_seeding_puts_the_demo_data_back(page: Page, site: DemoSite) -> None:
    site.sign_in(page, "partner")
    page.goto(f"{site.url}/dev/seeding")
    expect(page.get_by_text("Only admins can re-seed the demo data.")).to_be_visible()
    page.context.clear_cookies()

    db = site.db()
    db.execute("UPDATE tasks SET status = 'done'")  # someone closed every task
    site.sign_in(page, "admin")
    page.goto(f"{site.url}/dev")
    page.get_by_role("link", name="Data Seeding").click()
    expect(page.locator("#seed-overdue")).to_have_text("0")
    page.get_by_role("button", name="Re-seed demo data").click()
    notice = page.locator("#reseeded")
    expect(notice).to_contain_text("The demo data was seeded again: 24 cases")
    overdue = db.rows(
        "SELECT COUNT(*) AS n FROM tasks WHERE status <> 'done' AND due_at < :now",
        {"now": deck.clock.now()},
    )[0]["n"]
    assert overdue > 0
    expect(page.locator("#seed-overdue")).to_have_text(str(overdue))
    page.get_by_role("link", name="Tasks", exact=True).click()
    page.get_by_role("link", name="Overdue", exact=True).click()
    expect(page.locator("#task-table tbody tr")).to_have_count(overdue)
