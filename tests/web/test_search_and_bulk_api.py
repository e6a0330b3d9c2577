"""Search, counts by state and bulk actions through the REST API and the page's own routes,
on a deck that redacts argument keys: masked in every answer, refused as search terms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from jobdeck import JobDeck, ManualClock, accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.control import SEARCH_COUNT_CAP
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import AuditFilter, ClaimRequest, Outcome
from jobdeck.store.search import SEARCH_LAG
from tests.web.conftest import PASSWORD, Site, csrf_of

# Each dialect has its own search index and bulk SQL.
pytestmark = pytest.mark.both_stores


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    clock = ManualClock(datetime.now(UTC))
    deck = JobDeck(db_url, clock=clock, redact=("password", "token"))

    @deck.task(name="sign_up")
    def sign_up(user_id: int, password: str, plan: str = "free") -> None: ...

    @deck.task(name="send_email")
    def send_email(to: str) -> None: ...

    deck.migrate()
    for role in ("admin", "user"):
        accounts.add_user(
            deck.store, clock, AccessPolicy(), Actor("test"), f"{role}@example.com", PASSWORD, role
        )
    yield Site(deck, clock, deck.asgi())


def admin(site: Site) -> tuple[TestClient, dict[str, str]]:
    client = site.login("admin@example.com")
    return client, {"X-CSRF-Token": csrf_of(client)}


def sign_ups(site: Site) -> list[int]:
    task = site.deck.tasks["sign_up"]
    return [
        task.enqueue(user_id=42, password="hunter2", plan="pro").id,
        task.enqueue(user_id=7, password="s3cret-42").id,
        task.options(labels={"event": "claim"}).enqueue(user_id=8, password="x").id,
    ]


def ids(answer: dict) -> list[int]:  # type: ignore[type-arg]
    return [job["id"] for job in answer["jobs"]]


def test_search_by_path_label_text_and_id_masks_redacted_arguments(site: Site) -> None:
    client, _ = admin(site)
    pro, free, claimed = sign_ups(site)
    assert ids(client.get("/api/jobs", params={"q": "args.user_id:42"}).json()) == [pro]
    assert ids(client.get("/api/jobs", params={"q": "label.event:claim"}).json()) == [claimed]
    assert ids(client.get("/api/jobs", params={"q": "PRO"}).json()) == [pro]
    by_id = client.get("/api/jobs", params={"q": f"#{free}"}).json()
    assert by_id["job"] == free
    listed = client.get("/api/jobs").json()["jobs"]
    assert {job["args"]["password"] for job in listed} == {"[redacted]"}
    assert client.get(f"/api/jobs/{pro}").json()["job"]["args"]["password"] == "[redacted]"
    # A guess at a secret finds nothing, as a term or as free text.
    refused = client.get("/api/jobs", params={"q": "args.password:hunter2"})
    assert refused.status_code == 400 and "redacted" in refused.json()["error"]["message"]
    assert ids(client.get("/api/jobs", params={"q": "hunter2"}).json()) == []
    assert ids(client.get("/api/jobs", params={"q": "s3cret"}).json()) == []


def test_counts_by_status_follow_the_filters(site: Site) -> None:
    client, csrf = admin(site)
    _, free, _ = sign_ups(site)
    client.post(f"/api/jobs/{free}/cancel", headers=csrf)
    counts = client.get("/api/jobs/counts").json()
    assert {c["status"]: c["count"] for c in counts["counts"]} == {
        "pending": 2,
        "running": 0,
        "failed": 0,
        "success": 0,
        "cancelled": 1,
    }
    searched = client.get("/api/jobs/counts", params={"q": "args.plan:pro"}).json()
    assert [c["status"] for c in searched["counts"] if c["count"]] == ["pending"]
    assert client.get("/api/jobs/counts", params={"status": "nope"}).status_code == 422


def test_a_bulk_action_counts_first_then_acts_once_in_the_audit_log(site: Site) -> None:
    client, csrf = admin(site)
    jobs = sign_ups(site)
    site.deck.tasks["send_email"].enqueue(to="a@example.com")
    dry = client.post(
        "/api/jobs/bulk/cancel", params={"task": "sign"}, json={"dry_run": True}, headers=csrf
    )
    assert dry.json() == {"action": "cancel", "count": 3, "dry_run": True}
    assert {site.deck.store.get_job(i).state for i in jobs} == {"available"}  # type: ignore[union-attr]
    done = client.post(
        "/api/jobs/bulk/cancel", params={"task": "sign"}, json={"reason": "bad batch"}, headers=csrf
    )
    assert done.json()["count"] == 3
    retried = client.post("/api/jobs/bulk/retry", json={"ids": jobs[:1]}, headers=csrf)
    assert retried.json()["count"] == 1
    rows = site.deck.store.list_audit(AuditFilter(executions=False), 10)
    bulk = [r for r in rows if r.action_type.startswith("bulk_")]
    assert [(r.action_type, r.details["count"]) for r in bulk] == [
        ("bulk_retry", 1),
        ("bulk_cancel", 3),
    ]
    assert bulk[1].target == "jobs matching task_text=sign"
    assert bulk[1].details["reason"] == "bad batch"
    assert bulk[1].details["filter"] == {"task_text": "sign"}
    # A viewer may not; an unknown action is a one-line 422.
    viewer = site.login("user@example.com")
    denied = viewer.post("/api/jobs/bulk/retry", headers={"X-CSRF-Token": csrf_of(viewer)})
    assert denied.status_code == 403
    assert client.post("/api/jobs/bulk/explode", headers=csrf).status_code == 422


def test_the_openapi_schema_names_the_new_endpoints(site: Site) -> None:
    client, _ = admin(site)
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/jobs/counts", "/jobs/bulk/{action}"} <= {p.removeprefix("/api") for p in paths}
    assert "q" in {
        p["name"] for p in paths[next(p for p in paths if p.endswith("/jobs"))]["get"]["parameters"]
    }


def test_the_page_confirms_with_a_count_then_acts_on_the_selection(site: Site) -> None:
    client, csrf = admin(site)
    jobs = sign_ups(site)
    form = {"scope": "selected", "ids": f"{jobs[0]},{jobs[1]}"}
    confirm = client.post("/jobs/bulk/cancel/confirm", data=form, headers=csrf)
    assert confirm.status_code == 200
    assert "Cancel 2 jobs" in confirm.text and "of the 2 selected" in confirm.text
    table = client.post("/jobs/bulk/cancel?task=sign", data=form, headers=csrf)
    assert table.status_code == 200 and 'id="job-table"' in table.text
    assert "2 jobs cancelled" in table.headers["HX-Trigger"]
    everything = client.post(
        "/jobs/bulk/retry/confirm?status=cancelled", data={"scope": "filter"}, headers=csrf
    )
    assert "Retry 2 jobs" in everything.text and "matching this filter" in everything.text
    bad = client.post("/jobs/bulk/cancel/confirm", data={"ids": "1,x"}, headers=csrf)
    assert bad.status_code == 422 and "Select at least one job" in bad.text


def test_the_page_shows_counts_and_opens_a_searched_job(site: Site) -> None:
    client, _ = admin(site)
    jobs = sign_ups(site)
    page = client.get("/jobs", params={"q": str(jobs[1])})
    assert page.status_code == 200
    assert 'class="drawer open"' in page.text and "[redacted]" in page.text
    assert "s3cret" not in page.text
    listed = client.get("/jobs").text
    pending = re.search(r'id="count-pending".*?state-count-n">([^<]*)<', listed, re.S)
    assert pending is not None and pending.group(1) == "3"
    table = client.get("/jobs/table", params={"q": str(jobs[1])})
    assert f'"id": {jobs[1]}' in table.headers["HX-Trigger"]
    refused = client.get("/jobs/table", params={"q": "args.token:abc"})
    assert refused.status_code == 200 and "Search ignored" in refused.text


def test_bulk_ids_past_a_bigint_or_not_numbers_are_refused_not_a_500(site: Site) -> None:
    client, csrf = admin(site)
    for ids in ([2**53 + 1], [2**63], ["5"], [0]):
        answer = client.post("/api/jobs/bulk/retry", json={"ids": ids}, headers=csrf)
        assert answer.status_code == 422, (ids, answer.text)


def finish_all(site: Site) -> None:
    """Every pending job fails with an error naming it, and the search index takes them in."""
    store = site.deck.store
    claimed = store.claim_jobs(ClaimRequest("w1", ["default"], 100, 30.0))
    outcomes = [
        Outcome(
            c.id,
            c.attempt,
            c.task,
            AttemptStatus.FAILED,
            JobState.FAILED,
            c.started_at,
            site.clock.now(),
            error=f"QuotaError: job {c.id} over quota",
        )
        for c in claimed
    ]
    store.complete_jobs("w1", outcomes, shard=1)
    site.clock.advance(seconds=SEARCH_LAG.total_seconds() + 1)
    assert store.index_search(100) == len(claimed)


def test_an_indexed_search_masks_and_hides_redacted_values_and_says_what_it_reaches(
    site: Site,
) -> None:
    client, _ = admin(site)
    pro, free, _ = sign_ups(site)
    finish_all(site)
    assert ids(client.get("/api/jobs", params={"q": "quotaerror"}).json()) == [pro + 2, free, pro]
    assert ids(client.get("/api/jobs", params={"q": "hunter2"}).json()) == []  # redacted
    assert ids(client.get("/api/jobs", params={"q": "pro"}).json()) == [pro]
    counts = client.get("/api/jobs/counts", params={"q": "quotaerror"}).json()
    assert counts["cap"] == SEARCH_COUNT_CAP
    assert {c["status"]: c["count"] for c in counts["counts"]}["failed"] == 3
    table = client.get("/jobs/table", params={"q": "quotaerror"}).text
    assert "Searching every finished job" in table and "counts stop at 1,000" in table
    short = client.get("/jobs/table", params={"q": "qu"}).text
    assert "Searching the newest 20,000 jobs" in short and "counts stop at 10,000" in short


def test_a_guessed_secret_is_counted_and_acted_on_nowhere(site: Site) -> None:
    """The counts and a bulk action see what the list shows: a job that matches only inside a
    redacted value is counted by no state and touched by no bulk action, before the index
    holds it (the scan) and after (the index)."""
    client, csrf = admin(site)
    pro, _, _ = sign_ups(site)

    def guessed(text: str) -> tuple[int, int]:
        counts = client.get("/api/jobs/counts", params={"q": text}).json()["counts"]
        retry = client.post(
            "/api/jobs/bulk/retry", params={"q": text}, json={"dry_run": True}, headers=csrf
        )
        return sum(c["count"] for c in counts), retry.json()["count"]

    assert guessed("hunter2") == (0, 0)
    assert (
        sum(
            c["count"] for c in client.get("/api/jobs/counts", params={"q": "pro"}).json()["counts"]
        )
        == 1
    )
    finish_all(site)
    assert guessed("hunter2") == (0, 0)
    assert guessed("s3cret") == (0, 0)
    assert guessed("quotaerror") == (3, 3)
    cancelled = client.post("/api/jobs/bulk/retry", params={"q": "hunter2"}, json={}, headers=csrf)
    assert cancelled.json()["count"] == 0
    assert site.deck.store.get_job(pro).state == JobState.FAILED  # type: ignore[union-attr]
    retried = client.post("/api/jobs/bulk/retry", params={"q": "pro"}, json={}, headers=csrf)
    assert retried.json()["count"] == 1
    assert site.deck.store.get_job(pro).state != JobState.FAILED  # type: ignore[union-attr]
