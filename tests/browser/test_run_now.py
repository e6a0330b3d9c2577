"""Run Now in a real browser, on a deck of its own with the cooldown on: spamming the button (and
the API) makes one run, the button reads "Running…" then "Ran N s ago" (a click then asks before
running again) then "Run Now"; a run that fails with tries left says "Failed · retrying in N s"
and the final toast still comes; a reason typed on the card reaches the audit log."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from jobdeck import JobDeck
from jobdeck.states import Trigger
from jobdeck.store.base import AuditFilter, JobFilter
from jobdeck.worker.scheduler import Scheduler
from tests.browser import apps
from tests.browser.conftest import ARTIFACTS, artifact_name, dashboard
from tests.browser.harness import LiveServer, RunningWorker, click_sending

QUICK = "quick-check"  # takes about 1.5 s, cooldown 4 s
FLAKY = "flaky-sync"  # fails its first attempt, retries about 3 s later, then succeeds
DOOMED = "doomed-export"  # fails both of its two attempts
RACED = "raced-report"  # quick; only the API presses it
COOLDOWN_S = 4
RAN = re.compile(r"^Ran \d+ s ago$")
RETRYING = re.compile(r"^Failed · retrying (in \d+ s|now)$")


@dataclass
class CooldownSite:
    url: str
    deck: JobDeck
    attempts: dict[str, int] = field(default_factory=dict)

    def manual_runs(self, schedule: str) -> list[int]:
        jobs = self.deck.store.list_jobs(JobFilter(schedule=schedule), None, 100)
        return [job.id for job in jobs if job.trigger == Trigger.MANUAL]


@pytest.fixture(scope="module")
def cooling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CooldownSite]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cooldown') / 'jobs.db'}"
    deck = JobDeck(url, **apps.FAST)
    site_attempts: dict[str, int] = {}

    @deck.periodic(name=QUICK, cron="0 3 * * *", title="Quick Check", run_now_cooldown=COOLDOWN_S)
    def quick_check() -> dict[str, Any]:
        time.sleep(1.5)  # long enough to be seen Running
        return {"summary": "all clear"}

    @deck.periodic(
        name=FLAKY, cron="0 4 * * *", title="Flaky Sync", max_attempts=2, retry_backoff=3.0
    )
    def flaky_sync() -> dict[str, Any]:
        site_attempts[FLAKY] = site_attempts.get(FLAKY, 0) + 1
        if site_attempts[FLAKY] == 1:
            raise ConnectionError("upstream timed out")
        return {"summary": "synced on the second try"}

    @deck.periodic(
        name=DOOMED, cron="0 5 * * *", title="Doomed Export", max_attempts=2, retry_backoff=2.0
    )
    def doomed_export() -> dict[str, Any]:
        raise RuntimeError("disk full")

    @deck.periodic(name=RACED, cron="0 6 * * *", title="Raced Report")
    def raced_report() -> dict[str, Any]:
        return {"summary": "reported"}

    deck.migrate()
    Scheduler(deck).sync()
    worker = RunningWorker(deck, scheduler_enabled=False).start()
    server: LiveServer | None = None
    try:
        server = LiveServer(dashboard(deck)).start()
        yield CooldownSite(server.url, deck, site_attempts)
    finally:
        if server is not None:
            server.stop()
        worker.stop()
        deck.close()


@dataclass
class Dialogs:
    """The confirmations the page asked for; each answered with ``accept``'s current value."""

    seen: list[str] = field(default_factory=list)
    accept: bool = False


@pytest.fixture
def cooling_page(
    browser: Browser, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, Dialogs]]:
    """Like the suite's page fixture, but answering the confirmations Run Now asks for; any
    script error or CSP violation still fails the test."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, timezone_id="UTC", locale="en-US"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    dialogs, errors = Dialogs(), []

    def answer(dialog: Any) -> None:
        dialogs.seen.append(dialog.message)
        dialog.accept() if dialogs.accept else dialog.dismiss()

    page.on("dialog", answer)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        yield page, dialogs
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{artifact_name(request.node.name)}.png")
        context.close()
    assert not errors, f"the page raised script errors: {errors}"


def open_card(page: Page, site: CooldownSite, name: str) -> Any:
    page.goto(f"{site.url}/schedules")
    expect(page.locator("#health-pill")).not_to_have_text("Checking…")
    page.evaluate("window.notReloaded = true")
    # Every toast the page was told, kept past the 6 s a toast stays on screen.
    page.evaluate(
        "window.told = []; document.body.addEventListener('jobdeck:toast',"
        " (e) => window.told.push(e.detail.message))"
    )
    return page.locator(f"[data-schedule='{name}']")


def toasts(page: Page, text: str | re.Pattern[str]) -> Any:
    return page.locator("#toasts .toast", has_text=text)


def expect_told(page: Page, text: str, times: int, timeout: float = 15_000) -> None:
    """The page has shown the toast ``text`` ``times`` times since the card opened, whether or
    not the earlier ones are still on screen (on a loaded machine they are gone)."""
    page.wait_for_function(
        "([text, times]) => window.told.filter((m) => m === text).length === times",
        arg=[text, times],
        timeout=timeout,
    )


def test_spamming_run_now_runs_once_and_the_button_tells_the_state(
    cooling_page: tuple[Page, Dialogs], cooling: CooldownSite
) -> None:
    page, dialogs = cooling_page
    card = open_card(page, cooling, QUICK)
    button = card.locator(".actions .btn-primary")
    expect(button).to_have_text("Run Now")
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for _ in range(12):  # twelve clicks as fast as the mouse goes, wherever the button is now
        page.mouse.click(x, y)
    expect(toasts(page, "Quick Check: queued, starting now")).to_have_count(1)
    expect(button).to_have_text("Running…")
    expect(button).to_be_disabled()
    expect(card.locator("[data-badge]")).to_have_text("Running")

    expect(toasts(page, "Job executed successfully - all clear")).to_have_count(1, timeout=15_000)
    expect(button).to_have_text(RAN)
    assert len(cooling.manual_runs(QUICK)) == 1, "twelve clicks, one run"

    # Within the cooldown a click asks first; saying no runs nothing.
    button.click()
    deadline = time.monotonic() + 5
    while not dialogs.seen and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert dialogs.seen and re.fullmatch(
        r"Quick Check ran \d+ s ago\. Run it again\?", dialogs.seen[0]
    )
    page.wait_for_timeout(300)
    assert len(cooling.manual_runs(QUICK)) == 1, "a dismissed confirmation runs nothing"

    # The API answers the same way, however many calls race: no second run.
    answers = race_api(cooling, QUICK, 10)
    assert {a["refused"] for a in answers} == {"cooldown"}
    assert all(a["message"].startswith("ran ") for a in answers)
    assert len(cooling.manual_runs(QUICK)) == 1

    # Confirmed, it runs again.
    dialogs.accept = True
    click_sending(page, button, "/run")
    expect_told(page, "Quick Check: queued, starting now", 2)
    expect(button).to_have_text("Running…")
    assert len(cooling.manual_runs(QUICK)) == 2
    expect_told(page, "Job executed successfully - all clear", 2)
    expect(button).to_have_text(RAN)
    expect(button).to_have_text("Run Now", timeout=(COOLDOWN_S + 3) * 1000)  # cooldown over
    assert page.evaluate("window.notReloaded") is True, "no page reload"


def test_simultaneous_api_calls_make_one_run(cooling: CooldownSite) -> None:
    """Ten calls at once, twice, while a worker finishes the run in milliseconds: one run."""
    answers = race_api(cooling, RACED, 10)
    time.sleep(0.5)  # the run is over by now; the cooldown still holds the next ten
    answers += race_api(cooling, RACED, 10)
    assert sum(a["created"] for a in answers) == 1
    assert len({a["job_id"] for a in answers}) == 1
    assert {a["refused"] for a in answers if not a["created"]} <= {"active", "cooldown"}
    assert any(a["refused"] == "cooldown" for a in answers)
    assert len(cooling.manual_runs(RACED)) == 1


def page_credentials(site: CooldownSite) -> dict[str, str]:
    """The CSRF cookie and token a dashboard page hands out (the host signs everyone in)."""
    with urllib.request.urlopen(f"{site.url}/schedules", timeout=15) as response:
        cookie = response.headers["Set-Cookie"].split(";")[0]
        page = response.read().decode()
    match = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert match, "the page embeds its CSRF token"
    return {"Cookie": cookie, "X-CSRF-Token": match.group(1)}


def race_api(site: CooldownSite, name: str, n: int) -> list[dict[str, Any]]:
    """``n`` POSTs to the run endpoint released at the same moment, each on its own thread."""
    barrier = threading.Barrier(n)
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    headers = page_credentials(site)

    def post() -> None:
        url = f"{site.url}/api/schedules/{name}/run"
        req = urllib.request.Request(url, method="POST", headers=headers)
        barrier.wait()
        with urllib.request.urlopen(req, timeout=15) as response:
            answer = json.load(response)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=post) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == n
    return answers


def test_a_retry_is_not_failed_and_the_final_toast_follows(
    cooling_page: tuple[Page, Dialogs], cooling: CooldownSite
) -> None:
    page, _ = cooling_page
    card = open_card(page, cooling, FLAKY)
    badge = card.locator("[data-badge]")
    card.get_by_role("button", name="Run Now").click()
    expect(toasts(page, "Flaky Sync: queued, starting now")).to_have_count(1)
    expect(badge).to_have_text(RETRYING, timeout=15_000)
    expect(toasts(page, re.compile(r"^Flaky Sync: Failed · retrying in \d+ s$"))).to_have_count(1)
    expect(toasts(page, "Job execution failed")).to_have_count(0)  # not after the first try
    expect(toasts(page, "Job executed successfully - synced on the second try")).to_have_count(
        1, timeout=15_000
    )
    expect(badge).to_have_text("Success")
    expect(toasts(page, "retrying")).to_have_count(1)  # the retry was told once
    assert cooling.attempts[FLAKY] == 2


def test_a_run_that_fails_every_try_ends_with_the_failure_toast(
    cooling_page: tuple[Page, Dialogs], cooling: CooldownSite
) -> None:
    page, _ = cooling_page
    card = open_card(page, cooling, DOOMED)
    badge = card.locator("[data-badge]")
    card.get_by_role("button", name="Run Now").click()
    expect(toasts(page, "Doomed Export: queued, starting now")).to_have_count(1)
    expect(badge).to_have_text(RETRYING, timeout=15_000)
    expect(toasts(page, "Job execution failed - Check logs for details")).to_have_count(
        1, timeout=15_000
    )
    expect(badge).to_have_text("Failed")


def test_a_reason_typed_on_the_card_is_stored_with_the_audit_row(
    cooling_page: tuple[Page, Dialogs], cooling: CooldownSite
) -> None:
    page, _ = cooling_page
    card = open_card(page, cooling, FLAKY)
    reason = card.get_by_label("Reason for Run Now or Pause (optional, for the audit log)")
    reason.fill("Client meeting at 3, need fresh data")
    page.wait_for_timeout(2_500)  # a refresh or two of the status block: the text stays
    expect(reason).to_have_value("Client meeting at 3, need fresh data")
    card.get_by_role("button", name="Pause").click()
    expect(toasts(page, f"{FLAKY} paused")).to_have_count(1)
    expect(reason).to_have_value("")  # it went with that action
    card.get_by_role("button", name="Resume").click()
    expect(toasts(page, f"{FLAKY} resumed")).to_have_count(1)
    rows = cooling.deck.store.list_audit(AuditFilter(executions=False), 20)
    by_action = {r.action_type: r for r in rows if r.target == f"schedule {FLAKY}"}
    assert by_action["pause"].details["reason"] == "Client meeting at 3, need fresh data"
    assert "reason" not in by_action["resume"].details
