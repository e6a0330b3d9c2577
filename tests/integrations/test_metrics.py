"""/metrics: the Prometheus text format read from the store at each scrape, behind the view
permission, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from jobdeck import JobDeck, ManualClock, accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimRequest, NewJob, Outcome, WorkerInfo
from jobdeck.worker.scheduler import Scheduler

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def deck(db_url: str) -> Iterator[JobDeck]:
    clock = ManualClock(NOW)
    deck = JobDeck(db_url, clock=clock, expected_workers=3, heartbeat_interval=5)

    @deck.periodic(name="nightly", cron="0 3 * * *", alert_after="1h")
    def nightly() -> None: ...

    Scheduler(deck).sync()
    store = deck.store
    store.insert_jobs(
        [NewJob("send_email", queue="mail") for _ in range(4)]
        + [NewJob("resize", queue="default") for _ in range(3)]
        + [NewJob("resize", run_at=NOW + timedelta(hours=1))]
        + [NewJob("orphan", queue="nobody-listens")]
    )
    clock.advance(minutes=10)  # the mail jobs have now waited ten minutes
    for name, ago, state in [("a", 2, "running"), ("b", 3, "running"), ("c", 90, "running")]:
        at = clock.now() - timedelta(seconds=ago)
        store.register_worker(WorkerInfo(name, "host", 1, ("mail", "default"), 4, at, at))
        store.heartbeat_worker(name, at, state)
    claimed = store.claim_jobs(ClaimRequest("a", ["default"], 3, 30.0))
    outcomes = [
        _outcome(claimed[0], True, 1.5),
        _outcome(claimed[1], False, 0.5),
    ]  # the third stays running
    store.complete_jobs("a", outcomes, shard=1)
    yield deck
    deck.close()


def _outcome(job, succeeded: bool, seconds: float) -> Outcome:  # type: ignore[no-untyped-def]
    return Outcome(
        job.id,
        job.attempt,
        job.task,
        AttemptStatus.SUCCEEDED if succeeded else AttemptStatus.FAILED,
        JobState.SUCCEEDED if succeeded else JobState.FAILED,
        NOW,
        NOW + timedelta(seconds=seconds),
        wait_ms=job.wait_ms,  # as the worker passes it on
    )


def token(deck: JobDeck, role: str) -> str:
    secret, _ = accounts.create_token(
        deck.store, deck.clock, AccessPolicy(), Actor("test"), "prometheus", role
    )
    return secret


def scrape(deck: JobDeck, secret: str) -> Samples:
    client = TestClient(deck.asgi(), follow_redirects=False)  # type: ignore[arg-type]
    response = client.get("/metrics", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_report_the_queues_attempts_workers_and_schedules(deck: JobDeck) -> None:
    samples = scrape(deck, token(deck, "partner"))

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("jobdeck_jobs", queue="mail", state="available") == 4
    assert value("jobdeck_jobs", queue="default", state="available") == 0
    assert value("jobdeck_jobs", queue="default", state="running") == 1
    assert value("jobdeck_jobs", queue="default", state="scheduled") == 1
    assert value("jobdeck_jobs", queue="(other)", state="available") == 1  # nobody-listens
    assert value("jobdeck_queue_oldest_wait_seconds", queue="mail") == 600
    assert value("jobdeck_queue_oldest_wait_seconds", queue="default") == 0
    assert value("jobdeck_job_attempts_total", task="resize", outcome="succeeded") == 1
    assert value("jobdeck_job_attempts_total", task="resize", outcome="failed") == 1
    assert value("jobdeck_job_duration_seconds_count", task="resize") == 2
    assert value("jobdeck_job_duration_seconds_sum", task="resize") == 2.0
    assert value("jobdeck_workers", status="alive") == 2
    assert value("jobdeck_workers", status="lost") == 1
    assert value("jobdeck_workers_expected") == 3
    assert value("jobdeck_worker_slots") == 8
    assert value("jobdeck_schedule_stale", schedule="nightly") == 0
    assert value("jobdeck_store_up") == 1
    assert value("jobdeck_store_errors_total", section="jobs") == 0


def test_counters_follow_new_attempts_and_staleness_between_scrapes(deck: JobDeck) -> None:
    secret = token(deck, "partner")
    before = scrape(deck, secret)
    claimed = deck.store.claim_jobs(ClaimRequest("b", ["mail"], 2, 30.0))
    deck.store.complete_jobs("b", [_outcome(job, True, 1.0) for job in claimed], shard=2)
    deck.clock.advance(hours=2)  # type: ignore[attr-defined]
    after = scrape(deck, secret)
    key = ("jobdeck_job_attempts_total", (("outcome", "succeeded"), ("task", "send_email")))
    assert key not in before and after[key] == 2
    assert after[("jobdeck_jobs", (("queue", "mail"), ("state", "available")))] == 2
    assert after[("jobdeck_schedule_stale", (("schedule", "nightly"),))] == 1
    assert after[("jobdeck_workers", (("status", "alive"),))] == 0


def test_metrics_need_the_view_permission(deck: JobDeck) -> None:
    client = TestClient(deck.asgi(), follow_redirects=False)  # type: ignore[arg-type]
    refused = client.get("/metrics")
    assert refused.status_code == 401  # a status for the scraper, not the sign-in redirect
    assert refused.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer jdk_wrong"}).status_code == 401
    no_view = token(deck, "attorney")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {no_view}"}).status_code == 403


def test_without_the_extra_metrics_answer_501_naming_it(
    deck: JobDeck, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdeck import extras

    monkeypatch.setitem(extras.EXTRA_MODULES, "metrics", ("prometheus_client_not_installed",))
    client = TestClient(deck.asgi(), follow_redirects=False)  # type: ignore[arg-type]
    secret = token(deck, "partner")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 501
    assert response.text.strip().endswith("pip install 'jobdeck[metrics]'")
    assert len(response.text.strip().splitlines()) == 1


def test_the_grafana_dashboard_uses_only_metrics_the_endpoint_serves(deck: JobDeck) -> None:
    import json
    import re
    from pathlib import Path

    board = Path(__file__).resolve().parents[2] / "docs" / "grafana-jobdeck.json"
    exprs = [t["expr"] for p in json.loads(board.read_text())["panels"] for t in p["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\bjobdeck_[a-z_]+", expr)}
    client = TestClient(deck.asgi(), follow_redirects=False)  # type: ignore[arg-type]
    secret = token(deck, "partner")
    text = client.get("/metrics", headers={"Authorization": f"Bearer {secret}"}).text
    # Families without a sample yet (no schedule has succeeded) still declare their type.
    served = {name for name, _ in scrape(deck, secret)} | set(re.findall(r"# TYPE (\S+)", text))
    assert used and used <= served, used - served


def test_an_unreachable_store_is_reported_not_raised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from jobdeck.web.access import local_operator

    deck = JobDeck(f"sqlite:///{tmp_path / 'no-such-folder' / 'jobs.db'}")
    client = TestClient(deck.asgi(authorize=local_operator))
    for scrape_number in (1, 2):
        response = client.get("/metrics")
        assert response.status_code == 200
        samples = {
            (s.name, tuple(s.labels.values())): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }
        assert samples[("jobdeck_store_up", ())] == 0
        assert samples[("jobdeck_store_errors_total", ("jobs",))] == scrape_number


def test_error_groups_are_counted_by_fingerprint_with_the_recent_ones_by_status(
    deck: JobDeck,
) -> None:
    from tests.web.test_failures import fail, group_of

    secret = token(deck, "partner")
    before = scrape(deck, secret)
    assert before[("jobdeck_error_groups", (("status", "active"),))] == 0
    charge = group_of(deck, fail(deck, "charge", "KeyError: customer 1", "KeyError: customer 2")[0])
    noisy = group_of(deck, fail(deck, "crawl", "TimeoutError: timed out after 5 s")[0])
    deck.store.set_error_group_muted(noisy, "ops", deck.clock.now())
    samples = scrape(deck, secret)
    labels = (("exception", "KeyError"), ("fingerprint", charge), ("task", "charge"))
    assert samples[("jobdeck_error_group_failures_total", labels)] == 2
    assert samples[("jobdeck_error_groups", (("status", "active"),))] == 1
    assert samples[("jobdeck_error_groups", (("status", "muted"),))] == 1
    assert samples[("jobdeck_error_groups", (("status", "new"),))] == 1
    deck.clock.advance(hours=2)  # type: ignore[attr-defined]
    fail(deck, "refund", "KeyError: customer 3")  # the same group, later, in another task
    later = scrape(deck, secret)
    assert later[("jobdeck_error_group_failures_total", labels)] == 3  # a counter: it only grows
    assert later[("jobdeck_error_groups", (("status", "new"),))] == 0
    assert later[("jobdeck_error_groups", (("status", "muted"),))] == 0
    assert later[("jobdeck_store_errors_total", (("section", "errors"),))] == 0
