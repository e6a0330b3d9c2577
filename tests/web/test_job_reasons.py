"""Reasons for Retry, Cancel and Run Now: taken by the drawer and the REST API, stored with the
audit row, and shown in the drawer's "Operator actions", the schedule card's last runs, the
audit log and ``GET /api/jobs/{id}``; and the live fragments' 204 while nothing changed."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from jobdeck import control
from jobdeck.control.history import MAX_REASON
from jobdeck.store.base import AuditFilter
from tests.web.conftest import Site, csrf_of


def pending_job(site: Site) -> int:
    return site.deck.tasks["send_email"].enqueue(to="a@example.com").id


def admin(site: Site) -> tuple[TestClient, dict[str, str]]:
    client = site.login("admin@example.com")
    return client, {"X-CSRF-Token": csrf_of(client)}


def reasons(site: Site, target: str) -> list[tuple[str, str | None]]:
    rows = site.deck.store.list_audit(AuditFilter(target=target, executions=False), 10)
    return [(row.action_type, row.details.get("reason")) for row in rows]


def test_the_api_takes_a_reason_for_cancel_and_retry_and_shows_it_on_the_job(site: Site) -> None:
    client, csrf = admin(site)
    job_id = pending_job(site)
    cancelled = client.post(
        f"/api/jobs/{job_id}/cancel", json={"reason": "  duplicate of #7  "}, headers=csrf
    )
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    site.clock.advance(seconds=1)
    retried = client.post(f"/api/jobs/{job_id}/retry", headers=csrf)  # the body is optional
    assert retried.status_code == 200 and retried.json()["state"] == "available"
    assert reasons(site, f"job {job_id}") == [("retry", None), ("cancel", "duplicate of #7")]

    detail = client.get(f"/api/jobs/{job_id}").json()
    actions = [(a["action"], a["actor"], a["reason"], a["via"]) for a in detail["actions"]]
    assert actions == [
        ("retry", "admin@example.com", None, "api"),
        ("cancel", "admin@example.com", "duplicate of #7", "api"),
    ]
    partner = site.login("partner@example.com")  # may read the logs: sees them too
    assert len(partner.get(f"/api/jobs/{job_id}").json()["actions"]) == 2


def test_the_api_refuses_a_reason_too_long_or_with_a_nul_in_one_line(site: Site) -> None:
    client, csrf = admin(site)
    job_id = pending_job(site)
    for reason in ("x" * (MAX_REASON + 1), "a\x00b"):
        answer = client.post(f"/api/jobs/{job_id}/cancel", json={"reason": reason}, headers=csrf)
        assert answer.status_code == 422, answer.text
        assert "reason" in answer.json()["error"]["message"] and "\n" not in answer.text
    assert site.deck.store.get_job(job_id).state == "available"  # type: ignore[union-attr]
    assert reasons(site, f"job {job_id}") == []


def test_the_openapi_schema_documents_the_reason(site: Site) -> None:
    schema = site.login("admin@example.com").get("/api/openapi.json").json()
    body = schema["paths"]["/jobs/{job_id}/{action}"]["post"]["requestBody"]
    assert body.get("required", False) is False
    model = schema["components"]["schemas"]["ReasonIn"]["properties"]["reason"]
    assert model["anyOf"][0]["maxLength"] == MAX_REASON


def test_the_drawer_takes_a_reason_and_lists_the_operator_actions(site: Site) -> None:
    client, csrf = admin(site)
    job_id = pending_job(site)
    answer = client.post(
        f"/jobs/{job_id}/cancel", data={"reason": "customer asked <b>twice</b>"}, headers=csrf
    )
    assert answer.status_code == 200
    assert reasons(site, f"job {job_id}") == [("cancel", "customer asked <b>twice</b>")]
    section = answer.text.split("<h3>Operator actions</h3>", 1)[1]
    assert "cancel</b> by admin@example.com" in section
    assert "customer asked &lt;b&gt;twice&lt;/b&gt;" in section  # escaped, never markup
    assert 'id="drawer-reason"' in answer.text.split("<h3>Timing</h3>")[0]  # Retry is offered

    too_long = client.post(
        f"/jobs/{job_id}/retry", data={"reason": "x" * (MAX_REASON + 1)}, headers=csrf
    )
    assert too_long.status_code == 422 and "at most 500" in too_long.text
    assert site.deck.store.get_job(job_id).state == "cancelled"  # type: ignore[union-attr]


def test_a_manual_run_says_who_asked_and_why_in_the_last_runs_and_the_drawer(site: Site) -> None:
    client, _ = admin(site)
    actor = control.cli_actor()
    run = control.run_now(site.deck, "check-sla-and-overdue", actor, reason="client call at 9")
    runs = client.get("/schedules/check-sla-and-overdue/runs").text
    assert f"manual by {actor.name}" in runs and "client call at 9" in runs
    drawer = client.get(f"/jobs/{run.job_id}/drawer").text
    section = drawer.split("<h3>Operator actions</h3>", 1)[1]
    assert "run now</b> by " + actor.name in section and "client call at 9" in section


def test_the_audit_log_shows_the_reason_under_the_action_and_polls_its_newest_page(
    site: Site,
) -> None:
    client, csrf = admin(site)
    job_id = pending_job(site)
    client.post(f"/api/jobs/{job_id}/cancel", json={"reason": "wrong recipient"}, headers=csrf)
    page = client.get("/audit").text
    assert re.search(
        r"<td>cancel<div class=\"reason-text\"[^>]*>“wrong recipient”</div></td>", page
    )
    assert 'hx-get="audit?live=1"' in page
    rows = client.get("/audit", params={"live": "1"}).text
    assert "<html" not in rows and "<form" not in rows  # the rows alone, not the page
    assert "wrong recipient" in rows
    older = client.get("/audit", params={"before_ts": "2999-01-01T00:00:00Z", "before_id": "op-9"})
    assert "hx-get=" not in older.text.split('id="audit-rows"', 1)[1].split(">", 1)[0]


def test_a_live_poll_is_answered_204_until_its_fragment_changes(site: Site) -> None:
    client, csrf = admin(site)
    job_id = pending_job(site)
    url = f"/jobs/{job_id}/drawer"
    first = client.get(url, params={"live": "1"})
    version = re.search(r'data-live-version="([0-9a-f]{16})"', first.text).group(1)  # type: ignore[union-attr]
    assert f'"seen": "{version}"' in first.text
    assert client.get(url, params={"live": "1", "seen": version}).status_code == 204
    # The whole drawer carries the same version as its live part polled alone.
    assert f'data-live-version="{version}"' in client.get(url).text
    client.post(f"/api/jobs/{job_id}/cancel", headers=csrf)
    changed = client.get(url, params={"live": "1", "seen": version})
    assert changed.status_code == 200 and "Cancelled" in changed.text
    assert "hx-trigger" not in changed.text.split(">", 2)[1]  # final: the drawer stops polling


def test_a_polled_drawer_of_a_job_that_is_gone_stops_polling_quietly(site: Site) -> None:
    client, _ = admin(site)
    assert client.get("/jobs/987654/drawer", params={"live": "1"}).status_code == 286
    assert client.get("/jobs/987654/drawer").status_code == 404  # opened, it says so
