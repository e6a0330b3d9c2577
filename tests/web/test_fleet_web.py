"""The Queues and Workers pages and their API: what they show, pause and resume, drain and
stop, each audited, refused without the operator role, and bad input answered in one line."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from jobdeck.store.base import AuditFilter, ClaimRequest, WorkerInfo
from jobdeck.web.access import Principal
from tests.web.conftest import Site, csrf_of


def seed(site: Site) -> None:
    """Two pending e-mails and one that failed an hour ago; a live worker running one job, a
    lost one and a stopped one."""
    deck, now = site.deck, site.clock.now()
    send = deck.tasks["send_email"]
    send.enqueue_many([{"to": "a@example.com"}, {"to": "b@example.com"}])
    for worker_id, seconds_ago, state in (("live", 1, "running"), ("gone", 120, "running")):
        at = now - timedelta(seconds=seconds_ago)
        deck.store.register_worker(
            WorkerInfo(worker_id, f"host-{worker_id}", 7, ("default",), 4, at, at, state, "1.2")
        )
    deck.store.register_worker(WorkerInfo("done", "host-done", 8, ("default",), 4, now, now))
    deck.store.deregister_worker("done", now)


def last_action(site: Site) -> tuple[str, str | None, dict[str, object]]:
    (row,) = site.deck.store.list_audit(AuditFilter(executions=False), 1)
    return row.action_type, row.target, row.details


def test_the_queues_page_shows_backlog_latency_and_workers(site: Site) -> None:
    seed(site)
    site.clock.advance(seconds=90)
    page = site.login("user@example.com")  # no view permission: a clear refusal
    assert page.get("/queues").status_code == 403
    client = site.login("partner@example.com")
    html = client.get("/queues").text
    assert 'aria-current="page">Queues' in html and 'href="workers"' in html
    assert 'data-queue="default"' in html and '<td class="num pending">2</td>' in html
    assert "1m 30s" in html  # the oldest pending job has waited 90 s
    assert ">Pause</button>" in html
    assert client.get("/queues?period=1h").status_code == 200
    assert "Unknown period" in client.get("/queues?period=9y").text


def test_pause_and_resume_from_the_page_are_audited_with_the_reason(site: Site) -> None:
    seed(site)
    client = site.login("partner@example.com")
    headers = {"X-CSRF-Token": csrf_of(client), "HX-Request": "true"}
    done = client.post("/queues/default/pause", data={"reason": "SMTP down"}, headers=headers)
    assert done.status_code == 200 and "tag-paused" in done.text and ">Resume</button>" in done.text
    assert "paused" in done.headers["HX-Trigger"]
    action, target, details = last_action(site)
    assert (action, target, details["reason"]) == ("pause_queue", "queue default", "SMTP down")
    assert site.deck.store.worker_orders("live").paused_queues == {"default"}
    site.clock.advance(seconds=1)  # audit rows are newest first by time
    done = client.post("/queues/default/resume", headers=headers)
    assert ">Pause</button>" in done.text and last_action(site)[0] == "resume_queue"
    assert site.deck.store.list_paused_queues() == []


def test_a_reason_past_the_limit_is_refused_in_one_line_and_nothing_changes(site: Site) -> None:
    """The same bound and words as a job's or a schedule's reason (web.params.reason_of)."""
    seed(site)
    client = site.login("partner@example.com")
    headers = {"X-CSRF-Token": csrf_of(client), "HX-Request": "true"}
    for path in ("/queues/default/pause", "/workers/live/stop"):
        refused = client.post(path, data={"reason": "x" * 501}, headers=headers)
        assert refused.status_code == 422
        assert "The reason is 501 characters long; at most 500." in refused.headers["HX-Trigger"]
    assert site.deck.store.list_paused_queues() == []
    assert not site.deck.store.worker_orders("live").stop_requested


def test_the_workers_page_lists_every_process_with_its_running_jobs(site: Site) -> None:
    seed(site)
    deck = site.deck
    (claimed,) = deck.store.claim_jobs(ClaimRequest("live", ["default"], 1, 60))
    client = site.login("partner@example.com")
    html = client.get("/workers").text
    assert 'data-worker-id="live" data-status="running"' in html
    assert 'data-worker-id="gone" data-status="lost"' in html
    assert 'data-worker-id="done" data-status="stopped"' in html
    assert (
        f'href="jobs?job={claimed.id}"' in html and '<td class="num col-sm busy">1 / 4</td>' in html
    )
    assert html.count(">Drain and stop</button>") == 1  # only the running one


def test_drain_and_stop_from_the_page_and_an_unknown_worker(site: Site) -> None:
    seed(site)
    client = site.login("partner@example.com")
    headers = {"X-CSRF-Token": csrf_of(client), "HX-Request": "true"}
    done = client.post("/workers/live/stop", data={"reason": "reboot"}, headers=headers)
    assert done.status_code == 200 and 'data-worker-id="live" data-status="draining"' in done.text
    assert site.deck.store.worker_orders("live").stop_requested
    assert last_action(site)[:2] == ("stop_worker", "worker live")
    missing = client.post("/workers/nobody/stop", headers=headers)
    assert missing.status_code == 404 and "no running worker" in missing.text
    assert "Traceback" not in missing.text


def test_viewers_without_operate_see_no_buttons_and_cannot_act(site: Site) -> None:
    seed(site)

    def watcher(request: object) -> Principal:  # may view, not operate
        return Principal("u1", "watcher", "watcher", frozenset({"view"}))

    client = TestClient(site.deck.asgi(authorize=watcher), follow_redirects=False)
    assert ">Drain and stop</button>" not in client.get("/workers").text
    assert ">Pause</button>" not in client.get("/queues").text
    assert client.post("/queues/default/pause").status_code == 403
    assert client.post("/api/workers/live/stop").status_code == 403
    assert client.post("/api/queues/default/pause").status_code == 403
    assert site.deck.store.list_paused_queues() == []
    assert not site.deck.store.worker_orders("live").stop_requested


def test_the_api_lists_queues_and_workers_and_acts(site: Site) -> None:
    seed(site)
    client = site.login("partner@example.com")
    headers = {"X-CSRF-Token": csrf_of(client)}
    listed = client.get("/api/queues", params={"period": "1h"}).json()
    (default,) = [q for q in listed["queues"] if q["queue"] == "default"]
    assert default["pending"] == 2 and default["workers"] == ["live"] and default["paused"] is None
    assert listed["period"] == "1h" and default["failure_rate"] is None
    paused = client.post("/api/queues/default/pause", json={"reason": "deploy"}, headers=headers)
    assert paused.json() == {"queue": "default", "paused": True, "changed": True}
    again = client.post("/api/queues/default/pause", headers=headers).json()
    assert again["changed"] is False
    (default,) = [q for q in client.get("/api/queues").json()["queues"] if q["queue"] == "default"]
    assert default["paused"]["reason"] == "deploy" and default["paused"]["paused_by"]
    assert client.post("/api/queues/default/resume", headers=headers).json()["changed"] is True
    processes = {p["worker"]["id"]: p for p in client.get("/api/workers/processes").json()}
    assert processes["live"]["status"] == "running" and processes["gone"]["status"] == "lost"
    assert processes["live"]["busy"] == 0 and processes["live"]["running_job_ids"] == []
    stopped = client.post("/api/workers/live/stop", json={"reason": "x"}, headers=headers)
    assert stopped.status_code == 200 and stopped.json()["worker_id"] == "live"
    missing = client.post("/api/workers/nobody/stop", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad = client.post("/api/queues/%20/pause", headers=headers)
    assert bad.status_code == 400 and "empty" in bad.json()["error"]["message"]
    assert client.get("/api/queues", params={"period": "2y"}).status_code == 422
    schema = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/queues", "/api/workers/processes"} <= {f"/api{p}" for p in schema} | set(schema)
