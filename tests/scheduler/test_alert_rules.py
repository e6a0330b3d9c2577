"""Alert rules beyond staleness (fleet, queue wait, failure rate), each firing once and
recovering once, delivered through apprise to a real local HTTP receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jobdeck import JobDeck, ManualClock
from jobdeck.errors import ConfigError, MissingExtra
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimRequest, NewJob, Outcome, QueuePause, WorkerInfo
from jobdeck.worker.scheduler import Scheduler

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Receiver:
    """Records (path, JSON body) of every POST; answers 200 as Mattermost and json:// expect."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with receiver._lock:
                    receiver.requests.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def titles(self, path: str = "/alerts") -> list[str]:
        return [body["title"] for p, body in self.requests if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def make_deck(db_url: str, receiver: Receiver, **settings: Any) -> JobDeck:
    return JobDeck(
        db_url,
        clock=ManualClock(NOW),
        heartbeat_interval=5,
        alert_urls=[f"json://127.0.0.1:{receiver.port}/alerts"],
        **settings,
    )


def check(scheduler: Scheduler, times: int = 3) -> None:
    for _ in range(times):  # checked again and again: a rule's state changes once
        scheduler.check_health([], scheduler.clock.now())
    scheduler.alerter.flush()


def beat(deck: JobDeck, name: str) -> None:
    now = deck.clock.now()
    deck.store.register_worker(WorkerInfo(name, "host", 1, ("default",), 4, now, now))
    deck.store.heartbeat_worker(name, now, "running")


def kinds(deck: JobDeck) -> list[tuple[str, str]]:
    return [(a.kind, a.subject) for a in reversed(deck.store.list_alerts())]


def test_a_fleet_below_its_expected_size_fires_once_and_recovers_once(
    db_url: str, receiver: Receiver
) -> None:
    slack_style = f"mmost://127.0.0.1:{receiver.port}/hooktoken"
    deck = JobDeck(
        db_url,
        clock=ManualClock(NOW),
        heartbeat_interval=5,
        expected_workers=2,
        alert_urls=[f"json://127.0.0.1:{receiver.port}/alerts", slack_style],
    )
    scheduler = Scheduler(deck)
    beat(deck, "a")
    check(scheduler)
    assert kinds(deck) == []  # short for less than a minute: a restart, perhaps
    deck.clock.advance(seconds=61)  # type: ignore[attr-defined]
    beat(deck, "a")
    check(scheduler)
    beat(deck, "b")
    check(scheduler)
    assert kinds(deck) == [("fleet_low", "workers"), ("recovered", "workers")]
    assert receiver.titles() == ["[jobdeck] fleet_low: workers", "[jobdeck] recovered: workers"]
    fired, recovered = [body for path, body in receiver.requests if path == "/alerts"]
    assert fired["type"] == "failure" and "1 of 2 expected workers" in fired["message"]
    assert recovered["type"] == "success"
    # Mattermost's incoming webhooks take Slack's payload: {"text": ...} POSTed to /hooks/<token>.
    slack = [body for path, body in receiver.requests if path == "/hooks/hooktoken"]
    assert len(slack) == 2 and "1 of 2 expected workers heartbeating" in slack[0]["text"]
    assert all(a.delivered_at and a.delivery_error is None for a in deck.store.list_alerts())


def test_a_queue_whose_oldest_job_waits_too_long_fires_once(
    db_url: str, receiver: Receiver
) -> None:
    deck = make_deck(db_url, receiver, alert_queue_wait=600)
    scheduler = Scheduler(deck)
    deck.store.insert_jobs([NewJob("resize"), NewJob("resize")])
    deck.clock.advance(minutes=9)  # type: ignore[attr-defined]
    check(scheduler)
    assert kinds(deck) == []
    deck.clock.advance(minutes=2)  # type: ignore[attr-defined]
    check(scheduler)
    deck.store.claim_jobs(ClaimRequest("w", ["default"], 10, 30.0))
    check(scheduler)
    assert kinds(deck) == [("queue_wait", "queue default"), ("recovered", "queue default")]
    fired = deck.store.list_alerts()[-1]
    assert fired.message == "queue default: the oldest job has waited 11m (alert after 10m)"
    assert receiver.titles()[0] == "[jobdeck] queue_wait: queue default"


def test_a_paused_queue_does_not_alert_on_its_wait_and_a_firing_alert_recovers(
    db_url: str, receiver: Receiver
) -> None:
    deck = make_deck(db_url, receiver, alert_queue_wait=600)
    scheduler = Scheduler(deck)
    deck.store.insert_jobs([NewJob("resize")])
    deck.clock.advance(minutes=11)  # type: ignore[attr-defined]
    check(scheduler)
    assert kinds(deck) == [("queue_wait", "queue default")]
    deck.store.pause_queue(QueuePause("default", deck.clock.now(), "alice", "maintenance"))
    check(scheduler)
    deck.clock.advance(hours=2)  # type: ignore[attr-defined]
    check(scheduler)
    assert kinds(deck) == [("queue_wait", "queue default"), ("recovered", "queue default")]
    newest = deck.store.list_alerts()[0]
    assert newest.message == "queue default is paused: its wait is not alerted on"


def finish(deck: JobDeck, task: str, succeeded: bool, count: int) -> None:
    store, now = deck.store, deck.clock.now()
    store.insert_jobs([NewJob(task, max_attempts=1) for _ in range(count)])
    claimed = store.claim_jobs(ClaimRequest("w", ["default"], count, 30.0))
    status = AttemptStatus.SUCCEEDED if succeeded else AttemptStatus.FAILED
    state = JobState.SUCCEEDED if succeeded else JobState.FAILED
    outcomes = [
        Outcome(j.id, j.attempt, j.task, status, state, now, now + timedelta(seconds=1))
        for j in claimed
    ]
    store.complete_jobs("w", outcomes, shard=1)


def test_a_task_failing_too_often_fires_once_and_recovers_once(
    db_url: str, receiver: Receiver
) -> None:
    deck = make_deck(
        db_url,
        receiver,
        alert_failure_percent=50,
        alert_failure_window=900,
        alert_failure_min_attempts=4,
    )
    scheduler = Scheduler(deck)
    finish(deck, "sync_crm", False, 3)
    finish(deck, "resize", True, 10)
    check(scheduler)
    assert kinds(deck) == []  # 3 of 3 failed, but 4 attempts are needed to judge
    finish(deck, "sync_crm", False, 1)
    check(scheduler)
    deck.clock.advance(minutes=16)  # type: ignore[attr-defined]
    finish(deck, "sync_crm", False, 1)  # 1 of 1 failed: too few to fire, or to recover on
    check(scheduler)
    finish(deck, "sync_crm", True, 4)  # 1 of 5 failed
    check(scheduler)
    assert kinds(deck) == [("failure_rate", "task sync_crm"), ("recovered", "task sync_crm")]
    fired = deck.store.list_alerts()[-1]
    assert fired.message == (
        "task sync_crm: 4 of 4 attempts failed in the last 15m (alert above 50%)"
    )


def test_schedulers_sharing_a_database_send_each_change_once(
    db_url: str, receiver: Receiver
) -> None:
    deck = make_deck(db_url, receiver, expected_workers=1)
    other = make_deck(db_url, receiver, expected_workers=1)
    other.clock = deck.clock
    first, second = Scheduler(deck), Scheduler(other)
    for scheduler in (first, second):
        check(scheduler, times=1)  # no worker at all: below the expected one
    deck.clock.advance(seconds=61)  # type: ignore[attr-defined]
    for scheduler in (first, second, first, second):
        check(scheduler, times=1)
    beat(deck, "a")
    for scheduler in (second, first, second):
        check(scheduler, times=1)
    # A scheduler started later reads the rule's state from the alerts, too.
    check(Scheduler(make_deck(db_url, receiver, expected_workers=1)), times=1)
    assert kinds(deck) == [("fleet_low", "workers"), ("recovered", "workers")]


def test_alert_urls_without_the_extra_fail_at_start_in_one_line(
    db_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdeck import extras

    monkeypatch.setitem(extras.EXTRA_MODULES, "alerts", ("apprise_not_installed",))
    with pytest.raises(MissingExtra) as raised:
        Scheduler(make_deck(db_url, receiver))
    message = str(raised.value)
    assert "\n" not in message and message.endswith("pip install 'jobdeck[alerts]'")


def test_an_alert_url_apprise_cannot_read_is_refused_without_its_secret(db_url: str) -> None:
    deck = JobDeck(db_url, alert_urls=["slakc://T000/B000/very-secret-token"])
    with pytest.raises(ConfigError, match=r"alert URL slakc://\.\.\. is not one") as raised:
        Scheduler(deck)
    assert "very-secret-token" not in str(raised.value)


def test_a_new_error_group_fires_once_and_recovers_once_when_quiet(
    db_url: str, receiver: Receiver
) -> None:
    from tests.web.test_failures import fail, group_of

    deck = make_deck(db_url, receiver, alert_new_error_group=3600)
    scheduler = Scheduler(deck)
    [first] = fail(deck, "charge", "KeyError: customer 12")
    group = group_of(deck, first)
    check(scheduler)
    deck.clock.advance(minutes=10)  # type: ignore[attr-defined]
    fail(deck, "charge", "KeyError: customer 99", "KeyError: customer 7")  # the same group
    check(scheduler)
    assert kinds(deck) == [("new_error_group", f"error group {group}")]
    fired = deck.store.list_alerts()[0]
    assert fired.message == (
        "new error group in task charge: KeyError: customer <n> in app/billing.py in charge "
        "(1 failure since 12:00 UTC)"
    )
    assert fired.details["fingerprint"] == group and fired.details["rule"] == f"error_group:{group}"
    deck.clock.advance(minutes=61)  # type: ignore[attr-defined]
    check(scheduler)
    assert kinds(deck) == [
        ("new_error_group", f"error group {group}"),
        ("recovered", f"error group {group}"),
    ]
    assert receiver.titles() == [
        f"[jobdeck] new_error_group: error group {group}",
        f"[jobdeck] recovered: error group {group}",
    ]
    deck.clock.advance(hours=3)  # type: ignore[attr-defined]
    fail(deck, "charge", "KeyError: customer 3")  # back, but no longer new
    check(scheduler)
    assert len(kinds(deck)) == 2


def test_a_muted_group_does_not_alert_and_muting_a_firing_one_recovers_it(
    db_url: str, receiver: Receiver
) -> None:
    from tests.web.test_failures import fail, group_of

    deck = make_deck(db_url, receiver, alert_new_error_group=3600)
    scheduler = Scheduler(deck)
    noisy = group_of(deck, fail(deck, "crawl", "TimeoutError: timed out after 5 s")[0])
    deck.store.set_error_group_muted(noisy, "ops", deck.clock.now())
    check(scheduler)
    assert kinds(deck) == []
    fresh = group_of(deck, fail(deck, "charge", "KeyError: customer 12")[0])
    check(scheduler)
    deck.store.set_error_group_muted(fresh, "ops", deck.clock.now())
    check(scheduler)
    assert kinds(deck) == [
        ("new_error_group", f"error group {fresh}"),
        ("recovered", f"error group {fresh}"),
    ]
    assert deck.store.list_alerts()[0].message.endswith(": muted")


def test_the_new_error_group_window_must_be_positive(db_url: str) -> None:
    with pytest.raises(ConfigError, match="alert_new_error_group must be positive"):
        JobDeck(db_url, alert_new_error_group=0)
