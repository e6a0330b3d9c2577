"""Run Now through the page and the API: one run however often it is pressed, a cooldown that
only a confirmation passes, the reason stored with the audit row, and a card that follows a run
through its retries to the final toast."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from fastapi.testclient import TestClient

from jobdeck import accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import AuditFilter, ClaimRequest, Outcome
from tests.web.conftest import Site, csrf_of

NAME = "check-sla-and-overdue"


def token_client(site: Site) -> TestClient:
    secret, _ = accounts.create_token(
        site.deck.store, site.clock, AccessPolicy(), Actor("t"), "script", "partner"
    )
    client = site.client()
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def finish(
    site: Site, job_id: int, state: JobState = JobState.SUCCEEDED, retry_in: float = 0
) -> None:
    """Claim the job and end its attempt at the site's clock, as a worker would."""
    claimed = site.deck.store.claim_jobs(ClaimRequest("w", ["default"], 10, 30.0))
    [job] = [j for j in claimed if j.id == job_id]
    now = site.clock.now()
    status = AttemptStatus.SUCCEEDED if state == JobState.SUCCEEDED else AttemptStatus.FAILED
    outcome = Outcome(
        job.id, job.attempt, job.task, status, state, now, now,
        run_at=now + timedelta(seconds=retry_in) if retry_in else None,
        summary="5 overdue tasks found" if state == JobState.SUCCEEDED else None,
        error=None if state == JobState.SUCCEEDED else "RuntimeError: boom",
    )  # fmt: skip
    site.deck.store.complete_jobs("w", [outcome], shard=1)


def toast_of(response) -> str:  # type: ignore[no-untyped-def]
    return str(json.loads(response.headers["HX-Trigger"])["jobdeck:toast"]["message"])


def test_the_api_runs_once_then_answers_why_not_until_confirmed(site: Site) -> None:
    api = token_client(site)
    first = api.post(f"/api/schedules/{NAME}/run").json()
    assert first["created"] and first["refused"] is None
    assert first["message"] == f"queued as job #{first['job_id']}, starting now"
    again = api.post(f"/api/schedules/{NAME}/run", params={"confirm": "true"}).json()
    assert (again["created"], again["job_id"], again["refused"]) == (
        False,
        first["job_id"],
        "active",
    )
    assert again["message"] == f"already queued — job #{first['job_id']}"

    finish(site, first["job_id"])
    site.clock.advance(seconds=4)
    cooling = api.post(f"/api/schedules/{NAME}/run").json()
    assert (cooling["created"], cooling["refused"], cooling["state"]) == (
        False,
        "cooldown",
        "succeeded",
    )
    assert (cooling["ran_seconds_ago"], cooling["cooldown_left_seconds"]) == (4.0, 6.0)
    schedule = api.get(f"/api/schedules/{NAME}").json()["schedule"]
    assert (schedule["run_now"], schedule["run_now_cooldown_seconds"]) == ("cooldown", 10.0)
    assert schedule["run_now_cooldown_left_seconds"] == 6.0

    second = api.post(
        f"/api/schedules/{NAME}/run", params={"confirm": "true", "reason": "client meeting at 3"}
    ).json()
    assert second["created"] and second["job_id"] != first["job_id"]
    [row] = site.deck.store.list_audit(AuditFilter(executions=False, action_type="run_now"), 1)
    assert row.details["reason"] == "client meeting at 3" and row.details["created"] is True


def test_the_api_takes_a_reason_for_pause_and_resume_and_refuses_a_bad_one(site: Site) -> None:
    api = token_client(site)
    assert api.post(f"/api/schedules/{NAME}/pause", params={"reason": "outage"}).json()["paused"]
    assert not api.post(f"/api/schedules/{NAME}/resume", params={"reason": "over"}).json()["paused"]
    reasons = {
        (r.action_type, r.details.get("reason"))
        for r in site.deck.store.list_audit(AuditFilter(executions=False), 10)
    }
    assert {("resume", "over"), ("pause", "outage")} <= reasons
    too_long = api.post(f"/api/schedules/{NAME}/pause", params={"reason": "x" * 501})
    assert too_long.status_code == 422 and "reason" in too_long.json()["error"]["message"]
    # The JSON body retry and cancel take works here too, and wins over the query.
    site.clock.advance(seconds=1)
    api.post(f"/api/schedules/{NAME}/pause", params={"reason": "q"}, json={"reason": "body"})
    [row] = site.deck.store.list_audit(AuditFilter(executions=False, action_type="pause"), 1)
    assert row.details["reason"] == "body"
    long_body = api.post(f"/api/schedules/{NAME}/resume", json={"reason": "x" * 501})
    assert long_body.status_code == 422 and "reason" in long_body.json()["error"]["message"]
    bad_confirm = api.post(f"/api/schedules/{NAME}/run", params={"confirm": "perhaps"})
    assert bad_confirm.status_code == 422


def test_the_openapi_schema_documents_confirm_and_reason(site: Site) -> None:
    schema = token_client(site).get("/api/openapi.json").json()
    paths = schema["paths"]

    def params(path: str) -> dict[str, dict]:  # type: ignore[type-arg]
        return {p["name"]: p for p in paths[path]["post"].get("parameters", [])}

    run = params("/schedules/{name}/run")
    assert (
        run["confirm"]["schema"]["type"] == "boolean"
        and "cooldown" in run["confirm"]["description"]
    )
    assert run["reason"]["schema"]["anyOf"][0]["maxLength"] == 500
    assert "reason" in params("/schedules/{name}/pause")
    assert "reason" in params("/schedules/{name}/resume")
    run_now_out = schema["components"]["schemas"]["RunNowOut"]["properties"]
    assert {"refused", "cooldown_left_seconds", "ran_seconds_ago", "message"} <= set(run_now_out)


def test_the_card_button_shows_running_then_ran_then_run_now(site: Site) -> None:
    page = site.login("admin@example.com")
    headers = {"X-CSRF-Token": csrf_of(page), "HX-Request": "true"}
    url = f"/schedules/{NAME}/run"
    first = page.post(url, headers=headers, data={"reason": "before the client call"})
    assert toast_of(first) == "SLA & Overdue Check: queued, starting now"
    assert "Running…</button>" in first.text and 'hx-trigger="every 1s"' in first.text
    again = page.post(url, headers=headers, data={})
    job_id = site.deck.store.list_schedules(name=NAME)[0].manual_job_id
    assert toast_of(again) == f"SLA & Overdue Check: already queued — job #{job_id}"

    assert job_id is not None
    finish(site, job_id)
    site.clock.advance(seconds=3)
    status = page.get(f"/schedules/{NAME}/status", headers=headers)
    assert "Ran 3 s ago</button>" in status.text
    assert 'hx-confirm="SLA &amp; Overdue Check ran 3 s ago. Run it again?"' in status.text
    cooling = page.post(url, headers=headers, data={})
    assert toast_of(cooling) == "SLA & Overdue Check: ran 3 s ago; confirm to run again"
    confirmed = page.post(url, headers=headers, data={"confirm": "1"})
    assert toast_of(confirmed) == "SLA & Overdue Check: queued, starting now"
    rows = site.deck.store.list_audit(AuditFilter(executions=False, action_type="run_now"), 9)
    details = sorted(
        (r.details["job_id"], r.details["created"], r.details.get("reason")) for r in rows
    )
    assert (job_id, True, "before the client call") in details
    assert [d[1] for d in details].count(True) == 2  # the first run and the confirmed one

    second = site.deck.store.list_schedules(name=NAME)[0].manual_job_id
    assert second is not None and second != job_id
    finish(site, second)
    site.clock.advance(seconds=10)
    assert ">Run Now</button>" in page.get(f"/schedules/{NAME}/status", headers=headers).text


def test_a_reason_past_the_limit_is_a_one_line_error_on_the_card(site: Site) -> None:
    page = site.login("admin@example.com")
    headers = {"X-CSRF-Token": csrf_of(page), "HX-Request": "true"}
    response = page.post(f"/schedules/{NAME}/pause", headers=headers, data={"reason": "x" * 501})
    assert response.status_code == 422
    assert toast_of(response) == "The reason is 501 characters long; at most 500."
    assert not site.deck.store.list_schedules(name=NAME)[0].paused


def test_the_card_follows_a_run_through_its_retry_to_the_final_toast(site: Site) -> None:
    page = site.login("admin@example.com")
    headers = {"X-CSRF-Token": csrf_of(page), "HX-Request": "true"}
    run = page.post(f"/schedules/{NAME}/run", headers=headers, data={})
    job_id = site.deck.store.list_schedules(name=NAME)[0].manual_job_id
    assert job_id is not None and f"watch={job_id}&amp;told=0" in run.text

    finish(site, job_id, JobState.RETRYABLE, retry_in=5)
    status = page.get(f"/schedules/{NAME}/status?watch={job_id}&told=0", headers=headers)
    assert toast_of(status) == "SLA & Overdue Check: Failed · retrying in 5 s"
    assert ">Failed · retrying in 5 s</span>" in status.text
    assert f"watch={job_id}&amp;told=1" in status.text  # still watched, the retry told once

    site.clock.advance(seconds=2)
    quiet = page.get(f"/schedules/{NAME}/status?watch={job_id}&told=1", headers=headers)
    assert "HX-Trigger" not in quiet.headers
    assert ">Failed · retrying in 3 s</span>" in quiet.text

    site.clock.advance(seconds=3)
    finish(site, job_id)
    final = page.get(f"/schedules/{NAME}/status?watch={job_id}&told=1", headers=headers)
    assert toast_of(final) == "Job executed successfully - 5 overdue tasks found"
    assert "watch=" not in final.text and ">Success</span>" in final.text


def test_the_cli_says_why_no_run_was_made_and_takes_confirm(site: Site, db_url: str) -> None:
    from jobdeck.console import main

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, ["schedules", "run", NAME, *args, "--database", db_url])
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output.strip()

    queued = cli("--reason", "testing")
    job_id = site.deck.store.list_schedules(name=NAME)[0].manual_job_id
    assert queued == f"{NAME}: queued as job #{job_id}, starting now"
    assert cli("--confirm") == f"{NAME}: already queued — job #{job_id}"
    site.clock.set(datetime.now(UTC))  # the CLI's deck reads the system clock
    finish(site, job_id or 0)
    cooling = cli()
    assert cooling.startswith(f"{NAME}: ran ") and "pass --confirm to run again" in cooling
    assert cli("--confirm").startswith(f"{NAME}: queued as job #")
