"""The demo on PostgreSQL (issue 16, item 14), as ``jobdeck demo --database postgresql://...``
serves it: Advanced Tools runs the guide's queries there exactly as the guide prints them,
and Help marks the PostgreSQL text as this demo's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from jobdeck.demo.guide_sql import BY_KEY
from tests import pgtools
from tests.browser.demo_harness import DemoSite, demo_site


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest) -> Iterator[DemoSite]:
    template = request.getfixturevalue("pg_template")
    name = f"jd_demo_{uuid.uuid4().hex[:10]}"
    pgtools.create_database(name, template)
    try:
        with demo_site(pgtools.url_for(name)) as running:
            yield running
    finally:
        pgtools.drop_database(name)


def run(page: Page, key: str, tenant: str | None = None) -> None:
    row = page.locator(f"tr[data-query='{key}']")
    if tenant:
        row.get_by_label("Tenant").select_option(tenant)
    row.get_by_role("button", name="Run").click()
    expect(page.locator("#result-head")).to_have_text(BY_KEY[key].title)


def test_advanced_tools_run_the_guides_sql_verbatim_on_postgresql(
    page: Page, site: DemoSite
) -> None:
    site.db().execute("UPDATE cases SET owner_id = 2 WHERE id = 1")  # Vikram: no phone
    site.sign_in(page, "admin")
    page.goto(f"{site.url}/dev/environment")
    expect(page.locator("#versions tr", has_text="PostgreSQL")).to_be_visible()
    expect(page.locator("#database-url")).to_contain_text("postgresql://")

    page.get_by_role("link", name="Advanced Tools").click()
    expect(page.locator("#sql")).to_contain_text("the guide's text as written")
    run(page, "audit")
    expect(page.locator("#ran-sql")).to_have_text(BY_KEY["audit"].postgres)
    rows = page.locator("#result-rows tbody tr")
    expect(rows.first).to_contain_text("background_job_execution")
    expect(
        page.locator("#result-rows tbody tr", has_text="check-sla-and-overdue")
    ).not_to_have_count(0)

    run(page, "hearings")
    expect(page.locator("#ran-sql")).to_have_text(BY_KEY["hearings"].postgres)
    expect(page.locator("#ran-sql")).to_contain_text("NOW() + INTERVAL '24 hours'")
    expect(page.locator("#result-rows tbody tr", has_text="GST/2025/0001")).to_contain_text(
        "Vikram Shah"
    )

    run(page, "snapshots", tenant="acme-legal")
    expect(page.locator("#ran-sql")).to_have_text(BY_KEY["snapshots"].postgres)
    expect(page.locator("#row-count")).to_have_text("7 rows")
    expect(page.locator("#result-rows thead th")).to_have_text(
        ["snapshot_date", "metric_type", "metric_value"]
    )

    page.goto(f"{site.url}/help/background-jobs")
    hearings = page.locator("#scenarios .sql-pair[data-query='hearings'] h4")
    expect(hearings).to_have_text(
        [
            "PostgreSQL (the guide's query, as written) · this demo's database",
            "SQLite",
        ]
    )
