"""The audit_log view: operator actions and one row per finished attempt, queried as the guide
does, on both dialects; who sees what; retention."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import psycopg

from jobdeck.store.base import AuditFilter
from tests.web.conftest import Site, csrf_of

GUIDE_QUERY = """
SELECT
  id,
  action_type,
  details->>'job_name' as job,
  details->>'status' as status,
  details->>'execution_time_ms' as duration_ms,
  timestamp
FROM audit_log
WHERE action_type = 'background_job_execution'
ORDER BY timestamp DESC
LIMIT 20;
"""


def run_jobs(site: Site) -> None:
    deck = site.deck

    @deck.task(name="flaky", max_attempts=2, retry_backoff=0.01)
    def flaky() -> None:
        raise RuntimeError("Database connection timeout")

    deck.tasks["send_email"].enqueue(to="a@example.com")
    flaky.enqueue()
    # No scheduler loop: when the clock crosses a quarter hour, the site's */15 schedule would
    # add a run that the expected rows do not have.
    worker = deck.worker(
        concurrency=2,
        heartbeat_interval=0.2,
        lease_duration=2,
        backoff_base=0.01,
        scheduler_enabled=False,
    )
    thread = threading.Thread(target=worker.run, kwargs={"install_signals": False})
    thread.start()
    # The manual clock does not move by itself; retries are due at once with a tiny backoff.
    for _ in range(200):
        if (
            site.deck.store.count_jobs(
                __import__("jobdeck.store.base", fromlist=["JobFilter"]).JobFilter(
                    states=frozenset({"available", "running", "retryable"})
                )
            )
            == 0
        ):
            break
        site.clock.advance(seconds=1)
        threading.Event().wait(0.05)
    worker.stop()
    thread.join()


def test_the_guides_query_works_as_written(site: Site, db_url: str) -> None:
    run_jobs(site)
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(GUIDE_QUERY).fetchall()
    else:
        with psycopg.connect(db_url) as conn:
            rows = conn.execute(GUIDE_QUERY).fetchall()
    by_job = sorted((job, status) for _, _, job, status, _, _ in rows)
    assert by_job == [("flaky", "failed"), ("flaky", "failed"), ("send_email", "success")]
    assert all(int(duration) >= 0 for *_, duration, _ in rows)


def test_execution_rows_carry_the_guides_fields(site: Site) -> None:
    run_jobs(site)
    rows = site.deck.store.list_audit(AuditFilter(operator_actions=False), 10)
    failed = next(r for r in rows if r.details["status"] == "failed")
    assert failed.details["job_name"] == "flaky"
    assert failed.details["errors"]["error_message"] == "RuntimeError: Database connection timeout"
    assert "Traceback" in failed.details["errors"]["error_details"]
    # The guide's shape: both at the top of details (and still under errors).
    assert failed.details["error_message"] == "RuntimeError: Database connection timeout"
    assert failed.details["error_details"] == failed.details["errors"]["error_details"]
    success = next(r for r in rows if r.details["status"] == "success")
    assert success.details["results"] == {"sent": True} and success.details["errors"] is None
    assert "error_message" not in success.details


def test_partners_see_executions_and_admins_also_operator_actions(site: Site) -> None:
    run_jobs(site)
    admin = site.login("admin@example.com")
    admin.post("/schedules/check-sla-and-overdue/pause", headers={"X-CSRF-Token": csrf_of(admin)})
    partner = site.login("partner@example.com")
    partner_rows = partner.get("/api/audit").json()["rows"]
    assert {r["action_type"] for r in partner_rows} == {"background_job_execution"}
    admin_rows = admin.get("/api/audit").json()["rows"]
    assert {"pause", "login", "background_job_execution"} <= {r["action_type"] for r in admin_rows}
    only_pause = admin.get("/api/audit", params={"action": "pause"}).json()["rows"]
    assert [r["actor"] for r in only_pause] == ["admin@example.com"]
    page = admin.get("/audit", params={"action": "pause"})
    assert page.status_code == 200 and "admin@example.com" in page.text


def test_audit_pages_by_fifty(site: Site) -> None:
    from jobdeck import accounts

    for number in range(60):
        accounts.audit(
            site.deck.store,
            site.clock,
            accounts.Actor(f"bot{number}"),
            "retry",
            f"job {number}",
            {},
        )
        site.clock.advance(seconds=1)
    admin = site.login("admin@example.com")
    first = admin.get("/api/audit", params={"action": "retry"}).json()
    assert len(first["rows"]) == 50 and first["next_before_id"]
    second = admin.get(
        "/api/audit",
        params={
            "action": "retry",
            "before_ts": first["next_before_ts"],
            "before_id": first["next_before_id"],
        },
    ).json()
    assert len(second["rows"]) == 10
    assert not {r["id"] for r in first["rows"]} & {r["id"] for r in second["rows"]}


def test_retention_prunes_only_older_operator_actions(site: Site) -> None:
    from jobdeck import accounts

    accounts.audit(site.deck.store, site.clock, accounts.Actor("old"), "retry", "job 1", {})
    site.clock.advance(days=400)
    accounts.audit(site.deck.store, site.clock, accounts.Actor("new"), "retry", "job 2", {})
    removed = site.deck.store.prune_audit(site.clock.now() - timedelta(days=365))
    assert removed >= 1
    actors = {r.actor for r in site.deck.store.list_audit(AuditFilter(executions=False), 100)}
    assert "new" in actors and "old" not in actors
