"""New job from the dashboard and POST /api/jobs, on both stores: who may (the enqueue
permission: admins and partners), what the form shows for a typed signature, the job it
creates (arguments, delay, priority, labels, trigger) with its audit row, and the one-line
422 that names the argument when a value does not fit."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from jobdeck import JobDeck, ManualClock, accounts
from jobdeck.accounts import DEFAULT_ROLES, AccessPolicy, Actor
from jobdeck.control.new_job import NO_APP_CODE
from jobdeck.states import JobState, Trigger
from jobdeck.store.base import AuditFilter, JobFilter
from tests.web.conftest import PASSWORD, Site, csrf_of

# A role that may do everything on a job but create one: enqueue is not implied by either.
ROLES = {
    **{role: sorted(permissions) for role, permissions in DEFAULT_ROLES.items()},
    "viewer": ["view"],
    "ops": ["view", "logs", "trigger", "operate"],
}


class Tier(enum.Enum):
    GOLD = "gold"
    SILVER = "silver"


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    clock = ManualClock(datetime.now(UTC))
    deck = JobDeck(db_url, clock=clock, role_permissions=ROLES)

    @deck.task(name="reports.build", priority=5, labels={"team": "billing"})
    def build(
        account: str, count: int, due: date, tier: Tier, urgent: bool = False, note: str = ""
    ) -> None: ...

    @deck.task(name="ping")
    def ping() -> None: ...

    policy = AccessPolicy.from_settings(ROLES)
    for role in ("admin", "partner", "viewer", "ops", "attorney"):
        accounts.add_user(
            deck.store, clock, policy, Actor("test"), f"{role}@example.com", PASSWORD, role
        )
    yield Site(deck, clock, deck.asgi())
    deck.close()


GOOD = {
    "task": "reports.build",
    "arg:account": "acme",
    "arg:count": "3",
    "arg:due": "2025-01-31",
    "arg:tier": "silver",
    "arg:urgent": "",
    "arg:note": "",
    "delay": "15m",
    "priority": "9",
    "labels": "ticket=OPS-12\nsource = dashboard",
    "reason": "customer asked for a rerun",
}


def post_form(client: TestClient, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post("/jobs/new", data={**fields, "csrf_token": csrf_of(client)})


def token_client(site: Site, role: str) -> TestClient:
    policy = AccessPolicy.from_settings(ROLES)
    secret, _ = accounts.create_token(site.deck.store, site.clock, policy, Actor("t"), "s", role)
    client = site.client()
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def jobs_of(site: Site) -> list:  # type: ignore[type-arg]
    return site.deck.store.list_jobs(JobFilter(), None, 100)


@pytest.mark.parametrize("role", ["viewer", "ops", "attorney"])
def test_without_the_enqueue_permission_no_button_no_form_no_api(site: Site, role: str) -> None:
    client = site.login(f"{role}@example.com")
    if role != "attorney":
        assert 'id="new-job"' not in client.get("/jobs").text
    assert client.get("/jobs/new").status_code == 403
    refused = post_form(client, GOOD)
    expected = "access to background jobs" if role == "attorney" else "enqueue permission"
    assert refused.status_code == 403 and expected in refused.text.replace("&#39;", "'")
    api = token_client(site, role).post("/api/jobs", json={"task": "ping"})
    assert api.status_code == 403
    assert jobs_of(site) == []


@pytest.mark.parametrize("role", ["partner", "admin"])
def test_the_form_creates_the_job_and_opens_its_drawer(site: Site, role: str) -> None:
    client = site.login(f"{role}@example.com")
    assert 'href="jobs/new"' in client.get("/jobs").text
    page = client.get("/jobs/new", params={"task": "reports.build"}).text
    for name in ("account", "count", "due", "tier", "urgent", "note"):
        assert f'name="arg:{name}"' in page
    assert 'name="arg:count" value="" type="number" step="1"' in page
    assert 'name="arg:due" value="" type="date"' in page
    assert "<option>gold</option>" in page and "default (false)" in page
    created = post_form(client, GOOD)
    assert created.status_code == 303, created.text
    [job] = jobs_of(site)
    assert created.headers["location"] == f"/jobs?job={job.id}"
    assert job.args == {"account": "acme", "count": 3, "due": "2025-01-31", "tier": "silver"}
    assert (job.priority, job.trigger, job.triggered_by) == (
        9,
        Trigger.MANUAL,
        f"{role}@example.com",
    )
    assert job.labels == {"team": "billing", "ticket": "OPS-12", "source": "dashboard"}
    assert job.state == JobState.SCHEDULED
    assert job.run_at == site.clock.now() + timedelta(minutes=15)
    [row] = site.deck.store.list_audit(AuditFilter(action_type="enqueue"), 10)
    assert (row.actor, row.target) == (f"{role}@example.com", "task reports.build")
    assert row.details["job_id"] == job.id
    assert row.details["reason"] == "customer asked for a rerun"
    assert "args" not in row.details  # arguments may hold secrets: not copied to the audit log
    drawer = client.get(created.headers["location"])
    assert drawer.status_code == 200 and f"#{job.id}" in drawer.text
    actions = drawer.text[drawer.text.index("Operator actions") :]
    assert f"enqueue</b> by {role}@example.com" in actions
    assert "customer asked for a rerun" in actions


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"arg:count": "three"}, "count", "count: expected a whole number, got &#39;three&#39;"),
        ({"arg:due": "31/01"}, "due", "due: expected a date like 2025-01-31"),
        ({"arg:tier": "bronze"}, "tier", "tier: &#39;bronze&#39; is not one of gold, silver"),
        ({"arg:account": ""}, "account", "account: required"),
        ({"delay": "soon"}, "delay", "delay: expected seconds or a duration like 15m"),
        ({"delay": "800d"}, "delay", "delay: must be between 0 and 31622400 seconds"),
        ({"priority": "high"}, "priority", "priority: expected a whole number"),
        ({"labels": "nokey"}, "labels", "labels: &#39;nokey&#39; is not key=value"),
        ({"reason": "x" * 501}, "reason", "reason: 501 characters long; at most 500"),
    ],
)
def test_a_bad_value_is_a_422_on_the_form_naming_its_field(
    site: Site, changes: dict[str, str], field: str, message: str
) -> None:
    client = site.login("partner@example.com")
    answer = post_form(client, {**GOOD, **changes})
    assert answer.status_code == 422
    error = re.search(r'<p id="form-error"[^>]*>([^<]*)</p>', answer.text)
    assert error is not None and error.group(1).startswith(message), answer.text[:2000]
    marked = re.findall(r'name="([^"]+)"[^>]*aria-invalid="true"', answer.text)
    assert marked == [
        f"arg:{field}" if field not in ("delay", "priority", "labels", "reason") else field
    ]
    assert 'value="acme"' in answer.text or field == "account"  # what was typed is kept
    assert jobs_of(site) == []


def test_an_unknown_task_or_a_payload_too_large_is_a_form_error_not_a_500(site: Site) -> None:
    client = site.login("admin@example.com")
    unknown = post_form(client, {**GOOD, "task": "nope"})
    assert unknown.status_code == 422 and "Unknown task &#39;nope&#39;" in unknown.text
    assert "Unknown task" in client.get("/jobs/new", params={"task": "nope"}).text
    long_label = post_form(client, {**GOOD, "labels": "ticket=" + "x" * 300})
    assert long_label.status_code == 422 and 'id="form-error"' in long_label.text
    # Past the form parser's own part limit (1 MB) Starlette refuses the body before the
    # form is read: the one-line error page, not Starlette's JSON.
    huge = post_form(client, {**GOOD, "arg:account": "x" * 2_000_000})
    assert huge.status_code == 422 and huge.headers["content-type"].startswith("text/html")
    assert "Invalid request: Field exceeded maximum size of 1024KB." in huge.text
    assert jobs_of(site) == []


def test_the_api_creates_with_the_same_checks(site: Site) -> None:
    api = token_client(site, "partner")
    args = {"account": "a", "count": 2, "due": "2025-02-01", "tier": "gold"}
    body = {"task": "reports.build", "args": args, "priority": 1, "labels": {"k": "v"}}
    body |= {"delay": 60, "reason": "why"}
    created = api.post("/api/jobs", json=body)
    assert created.status_code == 201, created.text
    job = created.json()
    assert (job["task"], job["priority"], job["state"], job["trigger"]) == (
        "reports.build", 1, "scheduled", "manual",
    )  # fmt: skip
    assert job["labels"] == {"team": "billing", "k": "v"}
    for args, message in [
        ({**body["args"], "count": "2"}, "count: expected a whole number, got '2'"),
        ({**body["args"], "tier": "GOLD"}, "tier: 'GOLD' is not one of gold, silver"),
        ({"account": "a"}, "count: required"),
        ({**body["args"], "colour": "red"}, "got an unexpected keyword argument 'colour'"),
    ]:
        refused = api.post("/api/jobs", json={**body, "args": args})
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "invalid" and message in error["message"]
        assert "\n" not in error["message"]
    missing = api.post("/api/jobs", json={"task": "nope"})
    assert (
        missing.status_code == 404 and "Unknown task 'nope'" in missing.json()["error"]["message"]
    )
    assert api.post("/api/jobs", json={"task": "ping", "delay": -1}).status_code == 422
    for loose in ({"priority": True}, {"priority": "1"}, {"delay": "60"}):  # no coercion
        assert api.post("/api/jobs", json={"task": "ping", **loose}).status_code == 422
    assert len(jobs_of(site)) == 1
    actions = [r.action_type for r in site.deck.store.list_audit(AuditFilter(), 50)]
    assert actions.count("enqueue") == 1 and actions.count("enqueue_refused") == 4


def test_the_openapi_schema_describes_post_jobs(site: Site) -> None:
    schema = site.client().get("/api/openapi.json").json()
    operation = schema["paths"]["/jobs"]["post"]
    assert "201" in operation["responses"] and "422" in operation["responses"]
    fields = schema["components"]["schemas"]["NewJobIn"]["properties"]
    assert set(fields) == {"task", "args", "delay", "priority", "labels", "after", "reason"}


def test_without_the_apps_code_the_page_says_so_and_the_api_refuses(db_url: str) -> None:
    deck = JobDeck(db_url)  # what `jobdeck dashboard` builds without --app: no task known
    try:
        deck.store.migrate()
        policy = AccessPolicy()
        accounts.add_user(
            deck.store, deck.clock, policy, Actor("t"), "a@example.com", PASSWORD, "admin"
        )
        site = Site(deck, ManualClock(datetime.now(UTC)), deck.asgi())
        client = site.login("a@example.com")
        page = client.get("/jobs/new")
        assert page.status_code == 200 and 'id="no-app-code"' in page.text
        assert "started without --app" in page.text and 'name="task"' not in page.text
        secret, _ = accounts.create_token(deck.store, deck.clock, policy, Actor("t"), "s", "admin")
        api = site.client().post(
            "/api/jobs", json={"task": "x"}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert api.status_code == 404 and api.json()["error"]["message"] == NO_APP_CODE
    finally:
        deck.close()
