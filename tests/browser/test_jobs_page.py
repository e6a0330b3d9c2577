"""The Jobs page in a real browser: filters, paging, drawer, columns, period, chart, keyboard."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jobdeck import control
from jobdeck.states import STATUS_FILTERS
from jobdeck.store.base import JobFilter
from tests.browser import apps
from tests.browser.conftest import LIVE_REFRESH, Site, shot

ROWS = "#job-table tr.job-row"
SYNC = 1_500  # ms, for what the page does synchronously: no need for the 10 s default


def open_jobs(page: Page, site: Site, query: str = "") -> None:
    page.goto(f"{site.url}/jobs{query}")
    expect(page.locator("#chart[data-ready]")).to_have_count(1)  # scripts ran
    expect(page.locator("#health-pill")).not_to_have_text("Checking…")  # htmx ran


def row_ids(page: Page) -> list[int]:
    ids: list[int] = page.locator(ROWS).evaluate_all("rs => rs.map(r => +r.dataset.jobId)")
    return ids


def task_cells(page: Page) -> list[str]:
    cells: list[str] = page.locator(f"{ROWS} td.task").all_inner_texts()
    return cells


def wait_for_table_swap(page: Page) -> None:
    """Wait until htmx has replaced #job-table (a filter change or the live refresh)."""
    page.evaluate("document.getElementById('job-table').dataset.old = '1'")
    expect(page.locator("#job-table:not([data-old])")).to_have_count(1)


# -- 1. filters ---------------------------------------------------------------------------------


def test_filters_narrow_the_list_live_in_the_url_and_clear_resets_them(
    page: Page, site: Site
) -> None:
    open_jobs(page, site)
    expect(page.locator(ROWS)).to_have_count(50)

    failed = site.count(states=STATUS_FILTERS["failed"])
    page.select_option("#f-status", "failed")
    expect(page).to_have_url(re.compile(r"/jobs\?status=failed$"))
    expect(page.locator(ROWS)).to_have_count(failed)
    expect(page.locator(f"{ROWS} .badge", has_not_text="Failed")).to_have_count(0)

    documents = site.count(tasks=["process_document"])
    assert documents == 9 and failed > documents
    page.fill("#f-task", "DOCUMENT")  # free text, any case
    expect(page).to_have_url(re.compile(r"task=DOCUMENT"))
    expect(page.locator(ROWS)).to_have_count(documents)
    assert set(task_cells(page)) == {"process_document"}

    page.fill("#f-from", site.past_day.isoformat())
    page.fill("#f-to", site.past_day.isoformat())
    expect(page).to_have_url(re.compile(rf"to={site.past_day.isoformat()}"))
    expect(page.locator(ROWS)).to_have_count(3)  # only the three-day-old documents
    filtered = row_ids(page)
    url = page.url
    for key, value in {
        "task": "DOCUMENT",
        "status": "failed",
        "from": site.past_day.isoformat(),
        "to": site.past_day.isoformat(),
    }.items():
        assert f"{key}={value}" in url

    page.fill("#f-from", "")
    page.fill("#f-to", site.recent_day.isoformat())
    expect(page.locator(ROWS)).to_have_count(documents)  # From cleared, To includes today

    # A shared link opens the same filtered view.
    page.goto(url)
    expect(page.locator("#f-task")).to_have_value("DOCUMENT")
    expect(page.locator("#f-status")).to_have_value("failed")
    expect(page.locator("#f-from")).to_have_value(site.past_day.isoformat())
    expect(page.locator("#f-to")).to_have_value(site.past_day.isoformat())
    assert row_ids(page) == filtered

    page.click("#clear-filters")
    expect(page).to_have_url(f"{site.url}/jobs")
    for box in ("#f-task", "#f-from", "#f-to"):
        expect(page.locator(box)).to_have_value("")
    expect(page.locator("#f-status")).to_have_value("all")
    expect(page.locator(ROWS)).to_have_count(50)
    assert len(set(task_cells(page))) >= 3


def test_a_status_filter_with_no_match_says_so(page: Page, site: Site) -> None:
    open_jobs(page, site, "?status=cancelled")
    expect(page.locator("#job-table .empty")).to_have_text("No jobs match these filters.")
    expect(page.locator(".pager .disabled")).to_have_count(2)


# -- 2. paging ----------------------------------------------------------------------------------


def test_paging_by_50_with_next_and_previous(page: Page, site: Site) -> None:
    total = site.count()
    assert total > 100, "the fixture should fill three pages"
    open_jobs(page, site)
    expect(page.locator(ROWS)).to_have_count(50)
    expect(page.locator(".pager [rel=prev]")).to_have_count(0)  # first page: no Previous link
    first = row_ids(page)
    assert first == sorted(first, reverse=True), "newest first"

    page.click(".pager [rel=next]")
    expect(page).to_have_url(re.compile(rf"before={first[-1]}"))
    expect(page.locator(f"{ROWS}[data-job-id='{first[-1]}']")).to_have_count(0)
    expect(page.locator(ROWS)).to_have_count(50)
    second = row_ids(page)
    assert max(second) < min(first), "page two continues where page one ended"

    page.click(".pager [rel=next]")
    expect(page).to_have_url(re.compile(rf"before={second[-1]}"))
    expect(page.locator(f"{ROWS}[data-job-id='{second[-1]}']")).to_have_count(0)
    third = row_ids(page)
    assert 0 < len(third) < 50 and max(third) < min(second)
    expect(page.locator(".pager [rel=next]")).to_have_count(0)  # last page: no Next link
    listed = site.deck.store.list_jobs(JobFilter(), first[0] + 1, 1000)
    assert first + second + third == [job.id for job in listed], "every job, once, in order"

    page.click(".pager [rel=prev]")
    expect(page.locator(f"{ROWS}[data-job-id='{second[0]}']")).to_have_count(1)
    assert row_ids(page) == second
    page.click(".pager [rel=prev]")
    expect(page.locator(f"{ROWS}[data-job-id='{first[0]}']")).to_have_count(1)
    assert row_ids(page) == first
    expect(page.locator(".pager [rel=prev]")).to_have_count(0)

    # The page position is in the URL too: reloading page two shows page two.
    page.goto(f"{site.url}/jobs?before={first[-1]}")
    assert row_ids(page) == second


# -- 3. the drawer ------------------------------------------------------------------------------


def test_drawer_for_a_success_shows_timing_labels_and_result_and_closing_keeps_the_place(
    page: Page, site: Site, request: pytest.FixtureRequest
) -> None:
    job = site.deck.job(site.success_id).row
    open_jobs(page, site)
    row = page.locator(f"{ROWS}[data-job-id='{job.id}']")
    row.evaluate("el => el.scrollIntoView({block: 'center'})")
    expect(row).to_be_in_viewport()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 200, "the row should be well down the list"

    row.click()
    drawer = page.locator("#drawer")
    expect(drawer).to_have_class(re.compile(r"\bopen\b"))
    expect(drawer.locator("h2")).to_have_text("send_claim_verification_email")
    expect(drawer.locator(".drawer-head .badge")).to_have_text("Success")
    expect(drawer.locator("[data-close-drawer]")).to_be_focused()
    timing = drawer.locator("section", has=page.locator("h3", has_text="Timing"))
    for term in ("Started at", "Finished at", "Duration"):
        expect(timing.locator("dt", has_text=term)).to_be_visible()
    assert job.started_at is not None and job.finished_at is not None
    expect(timing.locator("dd").nth(2)).to_have_text(re.compile(r"^\d+ ms$|^\d+\.\d s$"))
    expect(timing.locator("dd time").first).to_have_text(re.compile(r"\d{4}.*\d{2}:\d{2}:\d{2}"))

    labels = drawer.locator("section", has=page.locator("h3", has_text="Labels"))
    for key, value in job.labels.items():
        expect(labels.locator("dt", has_text=key)).to_be_visible()
        expect(labels.locator(f"dt:text-is('{key}') + dd")).to_have_text(value)
    assert set(job.labels) == {"event_type", "user_id", "email"}

    result = drawer.locator("section", has=page.locator("h3", has_text="Result"))
    shown = result.locator("pre").inner_text()
    assert json.loads(shown) == job.result
    assert "\n  " in shown, "formatted JSON, one key a line"
    expect(drawer.locator("h3", has_text="Error")).to_have_count(0)
    shot(page, request, "open")

    drawer.locator("[data-close-drawer]").click()
    expect(drawer).not_to_have_class(re.compile(r"\bopen\b"))
    expect(row).to_be_focused()
    assert page.evaluate("window.scrollY") == scrolled
    expect(row).to_be_in_viewport()


def test_drawer_for_a_failure_shows_error_traceback_and_attempts(page: Page, site: Site) -> None:
    job = site.deck.job(site.failure_id).row
    open_jobs(page, site, "?task=process_document")
    page.locator(f"{ROWS}[data-job-id='{job.id}']").click()
    drawer = page.locator("#drawer")
    expect(drawer).to_have_class(re.compile(r"\bopen\b"))
    expect(drawer.locator(".drawer-head .badge")).to_have_text("Failed")

    error = drawer.locator("section", has=page.locator("h3", has_text="Error"))
    expect(error.locator(".error-message")).to_have_text(
        f"ValueError: corrupt PDF: document {job.args['document_id']} has no text layer"
    )
    trace = error.locator("pre.traceback")
    expect(trace).to_contain_text("Traceback (most recent call last)")
    expect(trace).to_contain_text("in process_document")
    box = trace.evaluate(
        """el => ({overflow: getComputedStyle(el).overflowY, font: getComputedStyle(el).fontFamily,
                   scroll: el.scrollHeight, client: el.clientHeight})"""
    )
    assert box["overflow"] in ("auto", "scroll")
    assert box["scroll"] > box["client"] > 100, "a long traceback scrolls inside its block"
    assert "mono" in box["font"].lower()
    trace.evaluate("el => el.scrollTop = el.scrollHeight")
    assert trace.evaluate("el => el.scrollTop") > 0

    attempts = drawer.locator(".attempts > li")
    expect(attempts).to_have_count(2)
    expect(attempts.nth(0).locator(".badge")).to_have_text("#2 failed")
    expect(attempts.nth(1).locator(".badge")).to_have_text("#1 failed")
    expect(attempts.nth(1)).to_contain_text("corrupt PDF")
    expect(drawer.locator("h3", has_text="Result")).to_have_count(0)
    expect(drawer.get_by_role("button", name="Retry")).to_be_visible()

    page.keyboard.press("Escape")
    expect(drawer).not_to_have_class(re.compile(r"\bopen\b"))


def test_closing_the_drawer_after_a_live_refresh_returns_to_the_same_row(
    page: Page, site: Site
) -> None:
    """The list refreshes itself every few seconds; focus must still come back to the row."""
    open_jobs(page, site)
    row = page.locator(f"{ROWS}[data-job-id='{site.success_id}']")
    row.click()
    expect(page.locator("#drawer")).to_have_class(re.compile(r"\bopen\b"))
    wait_for_table_swap(page)  # the live refresh (every LIVE_REFRESH s) replaced the rows
    assert LIVE_REFRESH <= 5
    page.locator("#drawer [data-close-drawer]").click()
    expect(page.locator("#drawer")).not_to_have_class(re.compile(r"\bopen\b"))
    expect(row).to_be_focused(timeout=SYNC)  # closing is synchronous


def test_the_live_refresh_keeps_keyboard_focus_on_the_same_row(page: Page, site: Site) -> None:
    open_jobs(page, site)
    row = page.locator(f"{ROWS}[data-job-id='{site.success_id}']")
    row.focus()
    expect(row).to_be_focused()
    wait_for_table_swap(page)
    expect(row).to_be_focused(timeout=SYNC)  # htmx restores focus in the swap


def test_a_drawer_link_opens_the_drawer_on_load(page: Page, site: Site) -> None:
    open_jobs(page, site, f"?job={site.failure_id}")
    expect(page.locator("#drawer.open [data-job-id]")).to_have_attribute(
        "data-job-id", str(site.failure_id)
    )
    page.keyboard.press("Escape")
    expect(page.locator("#drawer")).not_to_have_class(re.compile(r"\bopen\b"))


# -- 4. columns at three widths -----------------------------------------------------------------

WIDTHS = {
    375: ["Task Name", "Status"],
    768: ["Task Name", "Status", "Duration", "Started"],
    1440: ["Task Name", "Status", "Duration", "Started", "Finished"],
}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_columns_at_each_width(page: Page, site: Site, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    open_jobs(page, site)
    # The selection column (bulk actions) is there at every width.
    expect(page.locator("#job-table thead th.col-select")).to_be_visible()
    headers = page.locator("#job-table thead th:not(.col-select)")
    visible = [h.inner_text().strip() for h in headers.all() if h.is_visible()]
    assert [v.title() for v in visible] == WIDTHS[width]
    cells = page.locator(f"{ROWS}").first.locator("td:not(.col-select)")
    assert sum(1 for c in cells.all() if c.is_visible()) == len(WIDTHS[width])
    expect(page.locator("#health-pill")).to_be_in_viewport()
    expect(page.locator("#f-task")).to_be_visible()
    table = page.locator("#job-table table").bounding_box()
    assert table is not None and table["x"] + table["width"] <= width


@pytest.mark.parametrize("path", ["jobs", "schedules"])
@pytest.mark.parametrize("width", [375, 768, 1440])
def test_no_sideways_scrolling_at_each_width(page: Page, site: Site, width: int, path: str) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site.url}/{path}")
    expect(page.locator("#health-pill")).not_to_have_text("Checking…")
    wide = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
             .filter(e => !e.closest("#drawer"))
             .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
             .map(e => e.tagName.toLowerCase() + "." + e.className)"""
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0 and not wide, f"{path} scrolls sideways by {overflow}px: {wide}"


# -- 5. the period ------------------------------------------------------------------------------


def cards(page: Page) -> dict[str, str]:
    found: dict[str, str] = page.locator("[data-stat]").evaluate_all(
        "els => Object.fromEntries(els.map(e => [e.dataset.stat, e.textContent.trim()]))"
    )
    return found


def chart_data(page: Page) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(page.locator("#chart").get_attribute("data-chart") or "{}")
    return data


def test_period_switch_changes_cards_and_chart_keeps_the_list_and_sits_in_the_url(
    page: Page, site: Site, request: pytest.FixtureRequest
) -> None:
    open_jobs(page, site, "?task=email")
    expect(page.locator(".seg[aria-current]")).to_have_text("24h")
    listed = row_ids(page)
    assert len(listed) == 50

    page.get_by_role("link", name="1h", exact=True).click()
    expect(page).to_have_url(re.compile(r"period=1h"))
    assert "task=email" in page.url
    expect(page.locator(".seg[aria-current]")).to_have_text("1h")
    expect(page.locator("#chart[data-ready]")).to_have_count(1)
    hour = control.stats(site.deck.store, site.deck.clock, "1h")
    expect(page.locator("[data-stat=total]")).to_have_text(str(hour.total))
    one_hour_chart = chart_data(page)
    assert one_hour_chart["bucket"] == 60 and len(one_hour_chart["x"]) >= 60
    shot(page, request, "1h")

    page.get_by_role("link", name="7d", exact=True).click()
    expect(page).to_have_url(re.compile(r"period=7d"))
    week = control.stats(site.deck.store, site.deck.clock, "7d")
    assert week.total > hour.total, "the back-dated history is inside 7d, not 1h"
    expect(page.locator("[data-stat=total]")).to_have_text(str(week.total))
    expect(page.locator("[data-stat=success]")).to_have_text(str(week.succeeded))
    expect(page.locator("[data-stat=failed]")).to_have_text(str(week.failed))
    expect(page.locator("#chart[data-ready]")).to_have_count(1)
    week_chart = chart_data(page)
    assert week_chart["bucket"] == 7200
    assert sum(week_chart["success"]) + sum(week_chart["failed"]) == week.total
    assert page.locator("#chart canvas").count() == 1, "one chart, redrawn"
    breakdown = page.locator(".breakdown tbody tr").all_inner_texts()
    assert any("send_claim_verification_email" in r for r in breakdown)

    # The list did not move: same filter, same rows.
    expect(page.locator("#f-task")).to_have_value("email")
    assert row_ids(page) == listed

    for period in control.PERIODS:
        page.get_by_role("link", name=period, exact=True).click()
        expect(page.locator(".seg[aria-current]")).to_have_text(period)
        expect(page.locator("[data-stat=total]")).to_have_text(
            str(control.stats(site.deck.store, site.deck.clock, period).total)
        )

    page.get_by_role("link", name="7d", exact=True).click()
    expect(page).to_have_url(re.compile(r"period=7d"))
    page.reload()
    expect(page.locator(".seg[aria-current]")).to_have_text("7d")
    expect(page.locator("[data-stat=total]")).to_have_text(str(week.total))
    expect(page.locator("#f-task")).to_have_value("email")


# -- 6. the chart tooltip -----------------------------------------------------------------------


def test_chart_tooltip_shows_the_exact_counts_of_a_bucket(page: Page, site: Site) -> None:
    open_jobs(page, site, "?period=1h")
    data = chart_data(page)
    totals = [s + f for s, f in zip(data["success"], data["failed"], strict=True)]
    busiest = max(range(len(totals)), key=totals.__getitem__)
    assert totals[busiest] > 0
    quiet = next(i for i, t in enumerate(totals) if t == 0 and abs(i - busiest) > 3)

    for index in (quiet, busiest):  # ends on the busy bucket, for the screenshot
        x = page.evaluate(
            "i => { const c = document.getElementById('chart')._chart;"
            " return c.valToPos(c.data[0][i], 'x'); }",
            index,
        )
        box = page.locator("#chart .u-over").bounding_box()
        assert box is not None
        x = min(max(x, 1), box["width"] - 1)  # the newest bucket sits on the right edge
        page.mouse.move(box["x"] + x, box["y"] + box["height"] / 2)
        tip = page.locator("#chart-tooltip")
        expect(tip).to_be_visible()
        expect(tip).to_contain_text(f"Success: {data['success'][index]}")
        expect(tip).to_contain_text(f"Failed: {data['failed'][index]}")


# -- 9. job data stays text ---------------------------------------------------------------------


def test_html_in_job_data_is_shown_as_text_and_runs_nothing(
    page: Page, site: Site, page_log: Any, request: pytest.FixtureRequest
) -> None:
    open_jobs(page, site, "?task=render_preview")
    expect(page.locator(ROWS)).to_have_count(2)
    page.locator(f"{ROWS}[data-job-id='{site.xss_failed_id}']").click()
    drawer = page.locator("#drawer")
    expect(drawer.locator(".error-message").first).to_have_text(f"ValueError: {apps.XSS_ERROR}")
    expect(drawer.locator(".traceback")).to_contain_text(apps.XSS_ERROR)
    expect(drawer.locator(".labels dd").first).to_have_text(apps.XSS_LABEL)
    expect(drawer.locator("pre.code").first).to_contain_text(json.dumps(apps.XSS_ARG)[1:-1])
    shot(page, request, "failed")
    drawer.locator("[data-close-drawer]").click()

    page.locator(f"{ROWS}[data-job-id='{site.xss_ok_id}']").click()
    expect(drawer.locator("pre.result")).to_contain_text("<script>alert('result')</script>")

    # A payload typed into the URL's filter is a value, not markup.
    payload = "<script>alert('url')</script>"
    page.goto(f"{site.url}/jobs?task={payload}&status=%3Cb%3E")
    expect(page.locator("#f-task")).to_have_value(payload)
    expect(page.locator(".notice-warn")).to_contain_text("<b>")

    page.goto(f"{site.url}/schedules")
    card = page.locator("[data-schedule='send-hearing-reminders']")
    card.locator("summary").click()
    expect(card.locator(".runs-table")).to_contain_text(apps.HEARING_ERROR)

    injected = page.evaluate(
        """() => ({imgs: document.querySelectorAll('img').length,
                   inline: [...document.scripts].filter(s => !s.src).length,
                   bold: document.querySelectorAll('main b').length})"""
    )
    assert injected == {"imgs": 0, "inline": 0, "bold": 0}
    assert page_log.dialogs == []


# -- 11. keyboard -------------------------------------------------------------------------------


def tab_to_a_row(page: Page, site: Site) -> Any:
    """Press Tab from the top of the page until a task row has the focus."""
    open_jobs(page, site)
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('job-row')"):
            break
    else:
        pytest.fail("Tab never reached a task row")
    job_id = page.evaluate("document.activeElement.dataset.jobId")
    return page.locator(f"{ROWS}[data-job-id='{job_id}']")


def test_keyboard_tab_reaches_a_row_enter_opens_escape_closes(page: Page, site: Site) -> None:
    row = tab_to_a_row(page, site)
    job_id = row.get_attribute("data-job-id")
    shade = row.evaluate("el => getComputedStyle(el).backgroundColor")
    assert shade not in ("rgba(0, 0, 0, 0)", "transparent"), "the focused row is highlighted"

    page.keyboard.press("Enter")
    drawer = page.locator("#drawer")
    expect(drawer).to_have_class(re.compile(r"\bopen\b"))
    expect(drawer.locator(".drawer-panel")).to_have_attribute("data-job-id", job_id or "")
    expect(drawer.locator("[data-close-drawer]")).to_be_focused()

    page.keyboard.press("Escape")
    expect(drawer).not_to_have_class(re.compile(r"\bopen\b"))

    # Keyboard-only filtering: the task box is reachable and typing filters.
    page.locator("#f-task").focus()
    page.keyboard.type("preview")
    expect(page.locator(ROWS)).to_have_count(2)


def test_escape_returns_focus_to_the_row_the_keyboard_opened(page: Page, site: Site) -> None:
    row = tab_to_a_row(page, site)
    page.keyboard.press("Enter")
    expect(page.locator("#drawer [data-close-drawer]")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#drawer")).not_to_have_class(re.compile(r"\bopen\b"))
    expect(row).to_be_focused(timeout=SYNC)


# -- 13. dark colour scheme ---------------------------------------------------------------------

CONTRAST = """
els => {
  function rgb(c) {
    const m = c.match(/[\\d.]+/g).map(Number);
    return m.length > 3 ? m : [...m, 1];
  }
  function lum([r, g, b]) {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c[3] > 0.5) return c;
    }
    return rgb(getComputedStyle(document.body).backgroundColor);
  }
  return els.filter(e => e.offsetParent && e.textContent.trim()).map(e => {
    const style = getComputedStyle(e);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const a = lum(rgb(style.color)), b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    return {what: e.tagName.toLowerCase() + "." + e.className.split(" ").join(".") + " '" +
                  e.textContent.trim().slice(0, 16) + "'",
            ratio: Math.round(ratio * 100) / 100, needed: large ? 3 : 4.5};
  }).filter(r => r.ratio < r.needed);
}
"""
TEXT = (
    "h1, h2, h3, p, .sub, th, td, .badge, .seg, .stat .label, .stat .value, label, .btn, "
    "#health-pill, .error-message, .traceback, dt, dd, .brand, .tabs a, input, select, "
    ".frequency, .description, .stale-warning, .summary, .tag, summary"
)


def unreadable(page: Page) -> list[str]:
    """Text below WCAG AA contrast: 4.5:1, or 3:1 for large text; one entry per kind."""
    found = page.locator(TEXT).evaluate_all(CONTRAST)
    return sorted({f"{r['what']} {r['ratio']}:1 < {r['needed']}:1" for r in found})


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_colour_scheme_follows_the_system(
    page: Page, site: Site, scheme: str, request: pytest.FixtureRequest
) -> None:
    page.emulate_media(color_scheme=scheme)
    open_jobs(page, site)
    page.locator(f"{ROWS}[data-job-id='{site.failure_id}']").click()
    expect(page.locator("#drawer")).to_have_class(re.compile(r"\bopen\b"))
    colours = page.evaluate(
        """() => ["body", ".panel", "#drawer"]
              .map(css => document.querySelector(css))
              .map(e => getComputedStyle(e))
              .map(style => [style.backgroundColor, style.color])"""
    )
    for background, text in colours:
        back = [int(c) for c in re.findall(r"\d+", background)[:3]]
        fore = [int(c) for c in re.findall(r"\d+", text)[:3]]
        if scheme == "dark":
            assert max(back) < 60 and min(fore) > 180, f"dark: {text} on {background}"
        else:
            assert min(back) > 200 and max(fore) < 80, f"light: {text} on {background}"
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "light dark"
    shot(page, request, "drawer")


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_text_contrast_meets_wcag_aa(page: Page, site: Site, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    open_jobs(page, site)
    page.locator(f"{ROWS}[data-job-id='{site.failure_id}']").click()
    expect(page.locator("#drawer")).to_have_class(re.compile(r"\bopen\b"))
    poor = unreadable(page)
    page.goto(f"{site.url}/schedules")
    expect(page.locator("#health-pill")).not_to_have_text("Checking…")
    poor += unreadable(page)
    assert not poor, f"text below WCAG AA contrast in the {scheme} scheme: {poor}"


def pixel(page: Page, x: int, y: int) -> list[int]:
    """The colour the screen shows at (x, y), decoded by the browser itself."""
    png = page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    rgb: list[int] = page.evaluate(
        """async b64 => {
             const img = new Image(); img.src = "data:image/png;base64," + b64;
             await img.decode();
             const c = document.createElement("canvas"); c.width = c.height = 1;
             const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
             return [...ctx.getImageData(0, 0, 1, 1).data].slice(0, 3);
           }""",
        base64.b64encode(png).decode(),
    )
    return rgb


def test_a_closed_drawer_leaves_no_trace_on_the_page(page: Page, site: Site) -> None:
    open_jobs(page, site)
    main_right = page.evaluate("document.querySelector('main').getBoundingClientRect().right")
    assert main_right < 1440 - 40, "a strip of bare page background on the right"
    y = 450
    assert pixel(page, 1439, y) == pixel(page, int(main_right) + 2, y), (
        "the closed drawer's shadow darkens the right edge of the page"
    )
    expect(page.locator("#drawer")).not_to_be_in_viewport()
