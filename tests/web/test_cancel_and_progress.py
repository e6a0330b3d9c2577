"""Cancelling a running job and showing its task's progress and log lines: the drawer, the
task list's running row, the REST API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from jobdeck.console import main as cli
from jobdeck.store.base import AuditFilter, ClaimRequest, JobProgress, LogLine
from tests.web.conftest import Site, csrf_of


def running_job(site: Site) -> int:
    job_id = site.deck.tasks["send_email"].enqueue(to="a@example.com").id
    [claimed] = site.deck.store.claim_jobs(ClaimRequest("w1", ("default",), 1, 30.0))
    assert claimed.id == job_id
    at = datetime.now(UTC)
    site.deck.store.write_reports(
        [JobProgress(job_id, 1, 30, 120, "sending <batch>", at)],
        [
            LogLine(job_id, 1, at, "info", "connected to <smtp>"),
            LogLine(job_id, 1, at, "warning", "slow"),
        ],
    )
    return job_id


def test_the_drawer_shows_progress_and_lines_and_cancels_a_running_job(site: Site) -> None:
    client = site.login("admin@example.com")
    job_id = running_job(site)
    drawer = client.get(f"/jobs/{job_id}/drawer").text
    assert '<progress value="30.0" max="120.0">' in drawer and "30 of 120 (25%)" in drawer
    assert "sending &lt;batch&gt;" in drawer and "connected to &lt;smtp&gt;" in drawer
    assert 'id="drawer-cancel"' in drawer and "Stop job" in drawer
    table = client.get("/jobs/table").text
    assert 'class="row-progress"' in table and "25%" in table

    csrf = {"X-CSRF-Token": csrf_of(client)}
    answer = client.post(
        f"/jobs/{job_id}/cancel",
        data={"reason": "wrong list"},
        headers={**csrf, "HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.text
    assert 'id="drawer-cancelling"' in answer.text and "admin@example.com" in answer.text
    assert 'id="drawer-cancel"' not in answer.text  # asked once: no second Cancel
    job = site.deck.store.get_job(job_id)
    assert job.state == "running" and job.cancelled_by == "admin@example.com"  # type: ignore[union-attr]
    [row] = site.deck.store.list_audit(AuditFilter(action_type="cancel"), 5)
    assert row.target == f"job {job_id}" and row.details["reason"] == "wrong list"
    again = client.post(f"/api/jobs/{job_id}/cancel", headers=csrf)
    assert again.status_code == 409 and "being cancelled already" in again.text


def test_the_api_job_detail_has_progress_and_log_lines(site: Site) -> None:
    client = site.login("admin@example.com")
    job_id = running_job(site)
    detail = client.get(f"/api/jobs/{job_id}").json()
    [progress] = detail["progress"]
    assert (progress["attempt"], progress["done"], progress["total"]) == (1, 30, 120)
    assert [(ln["level"], ln["message"]) for ln in detail["log_lines"]] == [
        ("info", "connected to <smtp>"),
        ("warning", "slow"),
    ]
    csrf = {"X-CSRF-Token": csrf_of(client)}
    cancelled = client.post(f"/api/jobs/{job_id}/cancel", json={"reason": "stop"}, headers=csrf)
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert body["state"] == "running" and body["cancel_requested_at"] and body["cancelled_by"]


def test_the_cli_cancels_a_running_job_and_shows_its_progress(site: Site) -> None:
    job_id = running_job(site)
    runner = CliRunner()
    url = site.deck.database_url
    shown = runner.invoke(cli, ["jobs", "show", str(job_id), "--database", url])
    assert shown.exit_code == 0, shown.output
    assert "30 of 120 (25%)" in shown.output and "connected to <smtp>" in shown.output
    done = runner.invoke(cli, ["jobs", "cancel", str(job_id), "--database", url, "--reason", "x"])
    assert done.exit_code == 0, done.output
    assert "its worker stops it at its next heartbeat" in done.output
    assert site.deck.store.get_job(job_id).cancelled_by.startswith("cli:")  # type: ignore[union-attr]
