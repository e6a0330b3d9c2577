"""The Failures view and /api/errors on both stores: groups of a period with counts, tasks,
sparklines and samples; a group opens to its jobs; Retry all and Mute, audited, on pages and
the API alike; bad fingerprints answer one line."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from jobdeck import JobDeck, accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.fingerprints import fingerprint
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import AuditFilter, ClaimRequest, NewJob, Outcome
from tests.web.conftest import Site, csrf_of

TRACE = 'Traceback (most recent call last):\n  File "/srv/app/billing.py", line 9, in charge\n'


def fail(deck: JobDeck, task: str, *errors: str, final: bool = True) -> list[int]:
    """Jobs of ``task`` failed through the store, as a worker's batch writes them."""
    deck.store.insert_jobs([NewJob(task) for _ in errors])
    claimed = deck.store.claim_jobs(ClaimRequest("w1", ("default",), len(errors), 30.0))
    now = deck.clock.now()
    deck.store.complete_jobs(
        "w1",
        [
            Outcome(
                job.id,
                job.attempt,
                job.task,
                AttemptStatus.FAILED,
                JobState.FAILED if final else JobState.RETRYABLE,
                job.started_at,
                now,
                run_at=None if final else now + timedelta(hours=1),
                error=error,
                traceback=TRACE,
                error_group=fingerprint(error, TRACE),
            )
            for job, error in zip(claimed, errors, strict=True)
        ],
        1,
    )
    return [job.id for job in claimed]


def group_of(deck: JobDeck, job_id: int) -> str:
    job = deck.store.get_job(job_id)
    assert job is not None and job.error_group is not None
    return job.error_group


def test_the_view_lists_groups_with_counts_tasks_sparkline_and_sample(site: Site) -> None:
    fail(site.deck, "charge", "KeyError: customer 12", "KeyError: customer 99")
    fail(site.deck, "refund", "KeyError: customer 5")
    fail(site.deck, "mail", "OSError: connection refused")
    page = site.login("admin@example.com").get("/failures")
    assert page.status_code == 200
    assert 'href="failures" aria-current="page"' in page.text
    assert "2 error groups in the last 24h · 4 failed attempts" in page.text
    first = page.text.index("customer &lt;n&gt;")
    assert first < page.text.index("connection refused")  # most failures first
    assert re.search(
        r'<dd class="count">3</dd>\s*<dt>Tasks affected</dt><dd class="tasks">2', page.text
    )
    assert "in app/billing.py in charge" in page.text
    assert "<polyline" in page.text and "KeyError: customer 12" in page.text


def test_a_group_opens_to_its_jobs_on_the_jobs_page(site: Site) -> None:
    ids = fail(site.deck, "charge", "KeyError: customer 12", "KeyError: customer 99")
    other = fail(site.deck, "mail", "OSError: connection refused")
    group = group_of(site.deck, ids[0])
    client = site.login("admin@example.com")
    assert f'href="jobs?group={group}"' in client.get("/failures").text
    table = client.get("/jobs/table", params={"group": group}).text
    assert all(f'data-job-id="{i}"' in table for i in ids)
    assert f'data-job-id="{other[0]}"' not in table
    page = client.get("/jobs", params={"group": group}).text
    assert f"error group <code>{group}</code>" in page
    ignored = client.get("/jobs", params={"group": "nonsense"})
    assert ignored.status_code == 200 and "Ignored group=" in ignored.text


def test_retry_all_confirms_the_count_then_retries_and_audits_it(site: Site) -> None:
    ids = fail(site.deck, "charge", "KeyError: customer 1", "KeyError: customer 2")
    retrying = fail(site.deck, "charge", "KeyError: customer 3", final=False)
    group = group_of(site.deck, ids[0])
    client = site.login("partner@example.com")
    headers = {"X-CSRF-Token": csrf_of(client), "HX-Request": "true"}
    confirm = client.get(f"/failures/{group}/retry", headers=headers)
    assert "Retry 3 jobs whose latest failure is in this group?" in confirm.text
    done = client.post(f"/failures/{group}/retry", headers=headers)
    assert done.status_code == 200 and "3 jobs of this group queued to run again" in done.text
    for job_id in [*ids, *retrying]:
        job = site.deck.store.get_job(job_id)
        assert job is not None and job.state == JobState.AVAILABLE
    [row] = site.deck.store.list_audit(AuditFilter(action_type="retry_error_group"), 10)
    assert row.actor == "partner@example.com" and row.details["jobs"] == 3
    assert row.target == f"error group {group}"
    again = client.get(f"/failures/{group}/retry", headers=headers)
    assert "No failed or retrying job is left in this group." in again.text


def test_a_muted_group_is_hidden_by_default_and_shown_on_request(site: Site) -> None:
    ids = fail(site.deck, "charge", "KeyError: customer 1")
    group = group_of(site.deck, ids[0])
    client = site.login("admin@example.com")
    headers = {"X-CSRF-Token": csrf_of(client), "HX-Request": "true"}
    muted = client.post(f"/failures/{group}/mute", headers=headers)
    assert muted.status_code == 200 and "No failures in the last 24h outside muted" in muted.text
    assert "Group muted" in muted.headers["HX-Trigger"]
    assert f'id="group-{group}"' not in client.get("/failures").text
    shown = client.get("/failures", params={"muted": "1"}).text
    assert f'id="group-{group}"' in shown and ">muted</span>" in shown and "Unmute" in shown
    site.clock.advance(seconds=1)  # the audit log's order is by time
    client.post(f"/failures/{group}/unmute", headers=headers)
    assert f'id="group-{group}"' in client.get("/failures").text
    actions = [r.action_type for r in site.deck.store.list_audit(AuditFilter(executions=False), 10)]
    assert actions[:2] == ["unmute_error_group", "mute_error_group"]


def test_viewers_without_operate_cannot_act_and_bad_fingerprints_answer_one_line(
    site: Site,
) -> None:
    ids = fail(site.deck, "charge", "KeyError: customer 1")
    group = group_of(site.deck, ids[0])
    admin = site.login("admin@example.com")
    headers = {"X-CSRF-Token": csrf_of(admin)}
    missing = admin.post("/failures/0123456789abcdef/retry", headers=headers)
    assert (
        missing.status_code == 404 and "no error group &#39;0123456789abcdef&#39;" in missing.text
    )
    assert "Traceback" not in missing.text
    bad = admin.get("/failures/../retry")
    assert bad.status_code == 404
    period = admin.get("/failures", params={"period": "2y"})
    assert period.status_code == 200 and "Unknown period" in period.text
    attorney = site.login("attorney@example.com")
    assert attorney.get("/failures").status_code == 403
    refused = attorney.post(f"/failures/{group}/retry", headers={"X-CSRF-Token": csrf_of(attorney)})
    assert refused.status_code == 403
    job = site.deck.store.get_job(ids[0])
    assert job is not None and job.state == JobState.FAILED


def test_the_api_lists_groups_opens_one_retries_and_mutes(site: Site) -> None:
    ids = fail(site.deck, "charge", "KeyError: customer 1", "KeyError: customer 2")
    fail(site.deck, "mail", "OSError: connection refused")
    group = group_of(site.deck, ids[0])
    secret, _ = accounts.create_token(
        site.deck.store, site.clock, AccessPolicy(), Actor("test"), "ops", "partner"
    )
    api = TestClient(site.app, headers={"Authorization": f"Bearer {secret}"})  # type: ignore[arg-type]
    listed = api.get("/api/errors", params={"period": "1h"}).json()
    assert listed["period"] == "1h" and listed["bucket_seconds"] == 60
    first = listed["groups"][0]
    assert (first["fingerprint"], first["failures"], first["tasks"]) == (group, 2, 1)
    assert first["exception"] == "KeyError" and first["title"] == "customer <n>"
    assert sum(first["sparkline"]) == 2 and first["muted"] is False
    detail = api.get(f"/api/errors/{group}").json()
    assert detail["sample_error"] == "KeyError: customer 1" and detail["frame"].endswith("charge")
    jobs = api.get("/api/jobs", params={"group": group}).json()["jobs"]
    assert sorted(j["id"] for j in jobs) == ids and {j["error_group"] for j in jobs} == {group}
    assert api.get("/api/jobs", params={"group": "zz"}).status_code == 422
    assert api.post(f"/api/errors/{group}/mute").json()["muted"] is True
    assert group not in {g["fingerprint"] for g in api.get("/api/errors").json()["groups"]}
    assert api.post(f"/api/errors/{group}/unmute").json()["muted_by"] is None
    assert api.post(f"/api/errors/{group}/retry").json() == {"fingerprint": group, "retried": 2}
    missing = api.get("/api/errors/ffffffffffffffff")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.get("/api/errors", params={"period": "2y"}).status_code == 422
    schema = api.get("/api/openapi.json").json()
    assert {"/errors", "/errors/{fingerprint}", "/errors/{fingerprint}/retry"} <= set(
        schema["paths"]
    )
    assert "sparkline" in schema["components"]["schemas"]["ErrorGroupSummaryOut"]["properties"]
