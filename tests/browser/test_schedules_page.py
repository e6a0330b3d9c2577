"""The Scheduled jobs page in a real browser: cards, Run Now and its toasts, staleness, pause."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from jobdeck.states import Trigger
from jobdeck.store.base import JobFilter
from tests.browser import apps
from tests.browser.conftest import Site, shot

RELATIVE = re.compile(r"^(just now|\d+ (second|minute|hour)s? ago)$")


def open_schedules(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/schedules")
    expect(page.locator("#health-pill")).not_to_have_text("Checking…")  # htmx ran
    page.evaluate("window.notReloaded = true")


def manual_runs(site: Site, schedule: str) -> int:
    jobs = site.deck.store.list_jobs(JobFilter(schedule=schedule), None, 1000)
    return sum(1 for job in jobs if job.trigger == Trigger.MANUAL)


def toast(page: Page, text: str) -> None:
    expect(page.locator("#toasts .toast", has_text=text)).to_have_count(1, timeout=15_000)


# -- 7. Run Now ---------------------------------------------------------------------------------


def test_run_now_shows_running_then_success_and_a_second_click_queues_nothing(
    page: Page, site: Site, request: pytest.FixtureRequest
) -> None:
    name = "check-sla-and-overdue"
    before = manual_runs(site, name)
    open_schedules(page, site)
    card = page.locator(f"[data-schedule='{name}']")
    badge = card.locator("[data-badge]")
    expect(badge).to_have_text("Success")  # the fixture ran it once

    apps.SLA_GATE.clear()  # the run holds at its start until the test has seen it Running
    try:
        card.get_by_role("button", name="Run Now").click()
        toast(page, "SLA & Overdue Check: queued, starting now")
        # While queued or running the button cannot be pressed again.
        expect(card.get_by_role("button", name="Running…")).to_be_disabled()
        expect(badge).to_have_text("Running")
        expect(card.locator("dd").first).to_have_text("Just now")
        shot(page, request, "running")
    finally:
        apps.SLA_GATE.set()
    expect(badge).to_have_text("Success", timeout=15_000)
    toast(page, f"Job executed successfully - {apps.SLA_SUMMARY}")
    expect(card.locator("time").first).to_have_text(RELATIVE)
    expect(card).to_contain_text(apps.SLA_SUMMARY)
    expect(card.get_by_role("button", name="Run Now")).to_be_enabled()  # this deck: no cooldown

    assert page.evaluate("window.notReloaded") is True, "no page reload"
    assert manual_runs(site, name) == before + 1, "one click, one manual run"
    expect(page.locator("#toasts .toast-success")).to_have_count(1)


def test_run_now_on_a_failing_schedule_reports_the_failure(page: Page, site: Site) -> None:
    name = "send-hearing-reminders"
    before = manual_runs(site, name)
    open_schedules(page, site)
    card = page.locator(f"[data-schedule='{name}']")
    card.get_by_role("button", name="Run Now").click()
    toast(page, "Hearing Reminders: queued, starting now")
    toast(page, "Job execution failed - Check logs for details")
    expect(page.locator("#toasts .toast-error")).to_have_count(1)
    expect(card.locator("[data-badge]")).to_have_text("Failed")
    assert manual_runs(site, name) == before + 1
    assert page.evaluate("window.notReloaded") is True


# -- 10. the cards ------------------------------------------------------------------------------


def test_schedule_cards_show_what_the_guide_lists(
    page: Page, site: Site, request: pytest.FixtureRequest
) -> None:
    open_schedules(page, site)
    cards = page.locator(".schedule-card")
    expect(cards).to_have_count(3)

    sla = page.locator("[data-schedule='check-sla-and-overdue']")
    expect(sla.locator("h2")).to_contain_text("SLA & Overdue Check")
    expect(sla.locator(".description")).to_have_text(
        "Checks tasks for SLA violations and flags overdue work."
    )
    expect(sla.locator(".frequency")).to_have_text("Every 15 minutes")
    expect(sla.locator("[data-badge]")).to_have_text(re.compile("^(Success|Running)$"))
    expect(sla.locator("dt", has_text="Last run")).to_be_visible()
    expect(sla.locator("dd time").first).to_have_text(RELATIVE)
    expect(sla.get_by_role("button", name="Run Now")).to_be_visible()

    hearing = page.locator("[data-schedule='send-hearing-reminders']")
    expect(hearing.locator(".frequency")).to_have_text("Daily at 8:00 AM (Asia/Kolkata)")
    expect(hearing.locator("[data-badge]")).to_have_text("Failed")

    stale = page.locator("[data-schedule='analytics-snapshot']")
    expect(stale.locator("[data-badge]")).to_have_text("Pending")
    expect(stale.locator("dd").first).to_have_text("Never")
    expect(stale).to_have_class(re.compile(r"\bstale\b"))
    warning = stale.locator(".stale-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("past the 1s alert threshold")
    expect(sla.locator(".stale-warning")).to_have_count(0)

    summary = page.locator("#schedule-summary")
    expect(summary).to_have_class(re.compile(r"summary-bad"))
    expect(summary).to_contain_text("Attention needed.")
    expect(summary.locator("li", has_text="failed")).to_contain_text("Hearing Reminders")
    expect(summary.locator("li", has_text="not run recently")).to_contain_text("Analytics Snapshot")

    # The info icon explains the job, its expected age and when to worry.
    tip = sla.locator(".info .tip")
    expect(tip).to_be_hidden()
    sla.locator(".info").hover()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Checks tasks for SLA violations")
    expect(tip).to_contain_text("Expected to run at least every 15m")
    expect(tip).to_contain_text("Worry if the last successful run is older than 30m")
    shot(page, request, "tip")
    page.mouse.move(0, 0)
    expect(tip).to_be_hidden()
    sla.locator(".info").focus()  # keyboard users get the tip too
    expect(tip).to_be_visible()


def test_clicking_a_card_lists_the_last_executions_with_links_into_the_drawer(
    page: Page, site: Site
) -> None:
    open_schedules(page, site)
    card = page.locator("[data-schedule='send-hearing-reminders']")
    card.locator(".description").click()
    expect(card.locator("details.runs")).to_have_attribute("open", "")
    rows = card.locator(".runs-table tbody tr")
    expect(rows.first).to_be_visible()
    jobs = site.deck.store.list_jobs(JobFilter(schedule="send-hearing-reminders"), None, 10)
    expect(rows).to_have_count(len(jobs))
    first = rows.first
    expect(first.locator(".badge")).to_have_text("Failed")
    expect(first).to_contain_text(apps.HEARING_ERROR)
    expect(first.locator("time")).to_have_text(RELATIVE)

    link = first.locator("a").first
    expect(link).to_have_attribute("href", f"jobs?job={jobs[0].id}")
    link.click()
    expect(page).to_have_url(re.compile(rf"/jobs\?job={jobs[0].id}$"))
    drawer = page.locator("#drawer")
    expect(drawer).to_have_class(re.compile(r"\bopen\b"))
    expect(drawer.locator(".drawer-panel")).to_have_attribute("data-job-id", str(jobs[0].id))
    expect(drawer.locator(".error-message").first).to_contain_text("SMTP connection refused")

    page.go_back()
    card = page.locator("[data-schedule='send-hearing-reminders']")
    card.locator(".description").click()
    expect(card.locator("details.runs")).to_have_attribute("open", "")
    card.locator(".description").click()  # a second click folds it again
    expect(card.locator("details.runs")).not_to_have_attribute("open", "")


def test_pause_and_resume_a_schedule(page: Page, site: Site) -> None:
    name = "analytics-snapshot"
    open_schedules(page, site)
    card = page.locator(f"[data-schedule='{name}']")
    card.get_by_role("button", name="Pause").click()
    toast(page, f"{name} paused")
    expect(card.locator(".tag", has_text="Paused")).to_be_visible()
    expect(card.get_by_role("button", name="Resume")).to_be_visible()
    expect(card.locator("dt:text-is('Next run') + dd")).to_have_text("Paused")
    expect(card.locator(".stale-warning")).to_have_count(0)  # paused is not stale
    assert site.deck.store.list_schedules(name=name)[0].paused

    card.get_by_role("button", name="Resume").click()
    toast(page, f"{name} resumed")
    expect(card.get_by_role("button", name="Pause")).to_be_visible()
    expect(card.locator(".tag", has_text="Paused")).to_have_count(0)
    expect(card.locator("dt:text-is('Next run') + dd")).to_have_text(re.compile(r"^in "))
    expect(card.locator(".stale-warning")).to_be_visible()
    assert not site.deck.store.list_schedules(name=name)[0].paused


@pytest.mark.parametrize("width", [375, 768, 1440])
def test_schedule_cards_fit_each_width(page: Page, site: Site, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    open_schedules(page, site)
    columns = {375: 1, 768: 2, 1440: 3}[width]
    boxes = page.locator(".schedule-card").evaluate_all(
        "cs => cs.map(c => c.getBoundingClientRect()).map(r => [Math.round(r.top), r.right])"
    )
    assert [top for top, _ in boxes].count(boxes[0][0]) == columns
    assert all(right <= width for _, right in boxes), "every card inside the screen"
