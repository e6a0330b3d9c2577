"""Job dependencies and bulk cancel of running jobs in the dashboard and the API, on both
stores: the drawer's "Runs after" / "Then runs" links and its waiting line, the API detail's
parents and children, ``POST /api/jobs`` with ``after``, and the bulk confirmation that counts
running jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from jobdeck import JobDeck, ManualClock, accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.states import JobState
from jobdeck.store.base import AuditFilter, ClaimRequest, JobFilter
from tests.web.conftest import PASSWORD, Site, csrf_of


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    clock = ManualClock(datetime.now(UTC))
    deck = JobDeck(db_url, clock=clock)

    @deck.task(name="extract")
    def extract(doc: int) -> None: ...

    @deck.task(name="report")
    def report() -> None: ...

    accounts.add_user(
        deck.store, clock, AccessPolicy(), Actor("test"), "admin@example.com", PASSWORD, "admin"
    )
    yield Site(deck, clock, deck.asgi())
    deck.close()


def token_client(site: Site) -> TestClient:
    policy = AccessPolicy()
    secret, _ = accounts.create_token(site.deck.store, site.clock, policy, Actor("t"), "s", "admin")
    client = site.client()
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def test_the_drawer_links_parents_and_children_and_says_what_it_waits_for(site: Site) -> None:
    deck = site.deck
    one, two = deck.tasks["extract"].enqueue(doc=1), deck.tasks["extract"].enqueue(doc=2)
    child = deck.tasks["report"].enqueue(after=[one, two.id])
    client = site.login("admin@example.com")
    drawer = client.get(f"/jobs/{child.id}/drawer").text
    assert "Runs after" in drawer and "Then runs" not in drawer
    assert f'href="jobs?job={one.id}"' in drawer and f'data-job-link="{two.id}"' in drawer
    assert "waiting for 2 of 2 parent jobs to succeed" in drawer
    assert 'class="badge badge-waiting">Waiting<' in drawer
    parent = client.get(f"/jobs/{one.id}/drawer").text
    assert "Then runs" in parent and f'data-job-link="{child.id}"' in parent
    assert "Runs after" not in parent and "waiting for" not in parent


def test_the_api_detail_lists_parents_and_children_by_id(site: Site) -> None:
    api = token_client(site)
    parent = api.post("/api/jobs", json={"task": "extract", "args": {"doc": 1}})
    assert parent.status_code == 201, parent.text
    made = api.post("/api/jobs", json={"task": "report", "after": [parent.json()["id"]]})
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "waiting" and "has_children" not in made.json()
    child_id = made.json()["id"]
    detail = api.get(f"/api/jobs/{child_id}").json()
    assert (detail["parents"], detail["children"]) == ([parent.json()["id"]], [])
    assert api.get(f"/api/jobs/{parent.json()['id']}").json()["children"] == [child_id]
    [row] = site.deck.store.list_audit(AuditFilter(action_type="enqueue", target="task report"), 10)
    assert row.details["after"] == [parent.json()["id"]]


def test_an_unknown_parent_is_a_one_line_400_and_nothing_is_made(site: Site) -> None:
    api = token_client(site)
    refused = api.post("/api/jobs", json={"task": "report", "after": [424242]})
    assert refused.status_code == 400
    assert "#424242" in refused.json()["error"]["message"]
    assert "\n" not in refused.json()["error"]["message"]
    for bad in (["12"], [0], [True]):
        assert api.post("/api/jobs", json={"task": "report", "after": bad}).status_code == 422
    assert site.deck.store.count_jobs(JobFilter()) == 0


def test_the_bulk_confirmation_counts_running_jobs_and_the_audit_row_too(site: Site) -> None:
    deck = site.deck
    for doc in range(3):
        deck.tasks["extract"].enqueue(doc=doc)
    claimed = deck.store.claim_jobs(ClaimRequest("w1", ["default"], 2, 30.0))
    client = site.login("admin@example.com")
    csrf = {"X-CSRF-Token": csrf_of(client)}
    confirm = client.post("/jobs/bulk/cancel/confirm", data={"scope": "filter"}, headers=csrf)
    assert "Cancel 3 jobs" in confirm.text
    assert "2 of them are running: their workers stop them at the next heartbeat" in confirm.text
    done = client.post("/jobs/bulk/cancel", data={"scope": "filter"}, headers=csrf)
    assert "3 jobs cancelled" in json.loads(done.headers["HX-Trigger"])["jobdeck:toast"]["message"]
    for job in claimed:
        row = deck.store.get_job(job.id)
        assert row is not None and row.state == JobState.RUNNING
        assert row.cancelled_by == "admin@example.com"
    [audit] = deck.store.list_audit(AuditFilter(action_type="bulk_cancel", executions=False), 10)
    assert (audit.details["count"], audit.details["running"]) == (3, 2)
