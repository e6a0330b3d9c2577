"""Scheduler: exactly-once ticks without a leader, catch-up, DST, Run Now, pause, alerts."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobdeck import JobDeck, ManualClock
from jobdeck.accounts import Actor
from jobdeck.control.schedules import run_now, schedule_status, set_paused
from jobdeck.errors import ConfigError
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimRequest, JobFilter, Outcome
from jobdeck.worker.scheduler import Scheduler

OPERATOR = Actor("ops@example.com", "admin")

REPO = Path(__file__).resolve().parents[2]


def make_deck(db_url: str, clock: ManualClock | None = None, **settings: object) -> JobDeck:
    return JobDeck(db_url, clock=clock, scheduler_interval=0.05, **settings)  # type: ignore[arg-type]


def scheduled_jobs(deck: JobDeck, name: str) -> list:
    return list(reversed(deck.store.list_jobs(JobFilter(schedule=name), None, 10_000)))


def run_job(
    deck: JobDeck, job_id: int, *, succeed: bool = True, summary: str | None = None
) -> None:
    """Claim and finish one job at the deck's clock time, as a worker would."""
    now = deck.clock.now()
    claimed = deck.store.claim_jobs(ClaimRequest("w-test", ["default"], 100, 30.0))
    (job,) = [j for j in claimed if j.id == job_id]
    status = AttemptStatus.SUCCEEDED if succeed else AttemptStatus.FAILED
    state = JobState.SUCCEEDED if succeed else JobState.FAILED
    deck.store.complete_jobs(
        "w-test",
        [
            Outcome(
                job.id,
                job.attempt,
                job.task,
                status,
                state,
                now,
                now + timedelta(seconds=1),
                result_json='{"ok": true}' if succeed else None,
                summary=summary,
                error=None if succeed else "RuntimeError: boom",
            )
        ],
        shard=1,
    )


# -- declaring ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cron": "*/15 * * *"}, "5 fields"),
        ({"cron": "61 * * * *"}, "61"),
        ({"cron": "@daily", "timezone": "Mars/Base"}, "unknown time zone"),
        ({"cron": "@daily", "expected_max_age": "24h", "alert_after": "1h"}, "alert_after"),
        ({"every": "0.5s"}, "every"),
        ({"cron": "@daily", "catch_up": "all"}, "catch_up"),
    ],
)
def test_bad_declarations_are_refused_with_a_clear_message(options: dict, message: str) -> None:
    deck = JobDeck("sqlite:///unused.db")
    with pytest.raises(ConfigError, match=message):
        deck.periodic(name="bad", **options)(lambda: None)


def test_a_schedule_whose_every_tick_would_be_refused_is_refused_at_declaration() -> None:
    deck = JobDeck("sqlite:///unused.db", max_nesting_depth=3)
    with pytest.raises(ConfigError, match=r"schedule 'deep': args\.x: nested more than 3"):
        deck.periodic(name="deep", cron="@daily", args={"x": [[[1]]]})(lambda x: None)
    with pytest.raises(ConfigError, match="schedule: 300 characters; the limit is max_name"):
        deck.periodic(name="n" * 300, cron="@daily")(lambda: None)


def test_sync_writes_schedules_and_marks_removed_ones_inactive(db_url: str) -> None:
    deck = make_deck(db_url)
    deck.periodic(name="a", cron="@daily", title="A", description="does a")(lambda: None)
    deck.periodic(name="b", every="15m")(lambda: None)
    Scheduler(deck).sync()
    rows = {r.definition.name: r for r in deck.store.list_schedules()}
    assert rows["a"].active and rows["a"].definition.description == "does a"
    later = make_deck(db_url)
    later.periodic(name="a", cron="@daily")(lambda: None)
    Scheduler(later).sync()
    rows = {r.definition.name: r for r in later.store.list_schedules()}
    assert rows["a"].active and not rows["b"].active  # kept with its history, not deleted
    assert schedule_status(later, "b").next_run_at is None


# -- ticks -------------------------------------------------------------------------------------


def test_catch_up_latest_runs_once_after_two_hours_of_downtime(db_url: str) -> None:
    clock = ManualClock(datetime(2025, 6, 2, 9, 1, tzinfo=UTC))
    deck = make_deck(db_url, clock)
    deck.periodic(name="sla", cron="*/15 * * * *")(lambda: None)
    scheduler = Scheduler(deck)
    scheduler.sync()
    scheduler.run_once()  # first sight: bookmark, no replay of the past
    clock.advance(minutes=14)  # 09:15
    scheduler.run_once()
    assert [j.tick_at for j in scheduled_jobs(deck, "sla")] == [
        datetime(2025, 6, 2, 9, 15, tzinfo=UTC)
    ]
    clock.advance(hours=2, minutes=7)  # 11:22, the 09:30..11:15 ticks were missed
    scheduler.run_once()
    ticks = [j.tick_at for j in scheduled_jobs(deck, "sla")]
    assert ticks == [
        datetime(2025, 6, 2, 9, 15, tzinfo=UTC),
        datetime(2025, 6, 2, 11, 15, tzinfo=UTC),
    ]
    assert all(j.trigger == "cron" for j in scheduled_jobs(deck, "sla"))
    clock.advance(minutes=8)  # 11:30 is a normal tick again
    scheduler.run_once()
    assert scheduled_jobs(deck, "sla")[-1].tick_at == datetime(2025, 6, 2, 11, 30, tzinfo=UTC)


def test_catch_up_skip_drops_missed_ticks(db_url: str) -> None:
    clock = ManualClock(datetime(2025, 6, 2, 9, 1, tzinfo=UTC))
    deck = make_deck(db_url, clock)
    deck.periodic(name="sla", cron="*/15 * * * *", catch_up="skip")(lambda: None)
    scheduler = Scheduler(deck)
    scheduler.sync()
    scheduler.run_once()
    clock.advance(hours=2, minutes=21)  # 11:22
    scheduler.run_once()
    assert scheduled_jobs(deck, "sla") == []
    clock.advance(minutes=8)  # 11:30
    scheduler.run_once()
    assert [j.tick_at for j in scheduled_jobs(deck, "sla")] == [
        datetime(2025, 6, 2, 11, 30, tzinfo=UTC)
    ]


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        # Spring forward: 02:30 does not exist; it runs at 03:00 EDT (07:00 UTC), once.
        (datetime(2025, 3, 9, tzinfo=UTC), [datetime(2025, 3, 9, 7, 0, tzinfo=UTC)]),
        # Fall back: 02:30 EST happens once (01:xx is the repeated hour); 07:30 UTC.
        (datetime(2025, 11, 2, tzinfo=UTC), [datetime(2025, 11, 2, 7, 30, tzinfo=UTC)]),
    ],
)
def test_daily_0230_runs_once_on_daylight_saving_days(
    db_url: str, day: datetime, expected_utc: list[datetime]
) -> None:
    clock = ManualClock(day)
    deck = make_deck(db_url, clock)
    deck.periodic(name="nightly", cron="30 2 * * *", timezone="America/New_York")(lambda: None)
    scheduler = Scheduler(deck)
    scheduler.sync()
    while clock.now() < day + timedelta(hours=30):
        scheduler.run_once()
        clock.advance(minutes=10)
    ticks = [j.tick_at for j in scheduled_jobs(deck, "nightly")]
    assert [t for t in ticks if t.date() == expected_utc[0].date()] == expected_utc


def test_four_scheduler_processes_enqueue_each_tick_exactly_once(db_url: str) -> None:
    env = {**os.environ, "JOBDECK_DATABASE_URL": db_url}
    command = [
        sys.executable,
        "-m",
        "jobdeck",
        "scheduler",
        "--app",
        "tests.scheduler.apps:deck",
        "--log-level",
        "WARNING",
    ]
    procs = [subprocess.Popen(command, cwd=REPO, env=env) for _ in range(4)]
    deck = JobDeck(db_url)
    try:
        deadline = time.monotonic() + 60
        while len(scheduled_jobs(deck, "every-100ms")) < 200 and time.monotonic() < deadline:
            assert all(p.poll() is None for p in procs), "a scheduler process died"
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            assert proc.wait(15) == 0
    ticks = [j.tick_at for j in scheduled_jobs(deck, "every-100ms")]
    assert len(ticks) >= 200
    assert len(ticks) == len(set(ticks)), "a tick was enqueued twice"
    gaps = {round((b - a).total_seconds(), 3) for a, b in itertools.pairwise(sorted(ticks))}
    assert gaps == {0.1}, f"ticks were skipped: gaps {sorted(gaps)}"


def test_paused_schedule_enqueues_nothing_until_resumed(db_url: str) -> None:
    clock = ManualClock(datetime(2025, 6, 2, 9, 1, tzinfo=UTC))
    deck = make_deck(db_url, clock)
    deck.periodic(name="sla", cron="*/15 * * * *", catch_up="skip")(lambda: None)
    scheduler = Scheduler(deck)
    scheduler.sync()
    scheduler.run_once()
    set_paused(deck, "sla", True, OPERATOR)
    assert schedule_status(deck, "sla").paused
    clock.advance(minutes=30)
    scheduler.run_once()
    assert scheduled_jobs(deck, "sla") == []
    set_paused(deck, "sla", False, OPERATOR)
    clock.advance(minutes=14, seconds=29)  # 09:45:29, within the misfire grace of 09:45
    scheduler.run_once()
    assert len(scheduled_jobs(deck, "sla")) == 1


# -- Run Now -----------------------------------------------------------------------------------


def test_twenty_concurrent_run_now_requests_queue_one_run(db_url: str) -> None:
    deck = make_deck(db_url)
    deck.periodic(name="sla", cron="*/15 * * * *")(lambda: None)
    Scheduler(deck).sync()
    barrier = threading.Barrier(20)
    results = []
    lock = threading.Lock()

    def press() -> None:
        own = make_deck(db_url)
        own.periodic(name="sla", cron="*/15 * * * *")(lambda: None)
        barrier.wait()
        result = run_now(own, "sla", Actor("alice@example.com"))
        with lock:
            results.append(result)
        own.close()

    threads = [threading.Thread(target=press) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.created for r in results) == 1
    assert len({r.job_id for r in results}) == 1
    (job,) = scheduled_jobs(deck, "sla")
    assert (job.trigger, job.triggered_by, job.state) == (
        "manual",
        "alice@example.com",
        "available",
    )


def test_run_now_queues_again_after_the_cooldown_or_when_confirmed(db_url: str) -> None:
    clock = ManualClock(datetime(2025, 6, 2, 9, 0, tzinfo=UTC))
    deck = make_deck(db_url, clock)
    deck.periodic(name="sla", cron="*/15 * * * *", run_now_cooldown="30s")(lambda: None)
    job, created = deck.run_now("sla", by="bob")
    assert created
    again, created_again = deck.run_now("sla", by="bob", confirm=True)
    assert not created_again and again.id == job.id  # confirming never doubles an active run
    run_job(deck, job.id, summary="5 overdue tasks found")  # finishes a second later

    clock.advance(seconds=13)
    cooling = run_now(deck, "sla", Actor("bob"))
    assert (cooling.created, cooling.job_id, cooling.refused) == (False, job.id, "cooldown")
    assert (cooling.ran_seconds_ago, cooling.cooldown_left_seconds) == (12.0, 18.0)
    assert cooling.message == f"ran 12 s ago (job #{job.id}); confirm to run again, or wait 18 s"
    confirmed, created_confirmed = deck.run_now("sla", by="bob", confirm=True)
    assert created_confirmed and confirmed.id != job.id
    run_job(deck, confirmed.id)

    clock.advance(seconds=31)
    third, created_third = deck.run_now("sla", by="bob")
    assert created_third and third.id not in (job.id, confirmed.id)


def test_the_run_now_cooldown_is_declared_with_the_schedule(db_url: str) -> None:
    deck = make_deck(db_url)
    deck.periodic(name="sla", cron="*/15 * * * *")(lambda: None)
    deck.periodic(name="fast", cron="*/15 * * * *", run_now_cooldown=0)(lambda: None)
    Scheduler(deck).sync()
    assert schedule_status(deck, "sla").run_now_cooldown == timedelta(seconds=10)
    assert schedule_status(deck, "fast").run_now_cooldown == timedelta(0)
    with pytest.raises(ConfigError, match="schedule 'bad': run_now_cooldown: invalid duration"):
        deck.periodic(name="bad", cron="* * * * *", run_now_cooldown=-1)(lambda: None)


# -- status and alerts ---------------------------------------------------------------------------


def test_status_badge_follows_the_runs(db_url: str) -> None:
    clock = ManualClock(datetime(2025, 6, 2, 9, 1, tzinfo=UTC))
    deck = make_deck(db_url, clock)
    deck.periodic(
        name="sla",
        cron="*/15 * * * *",
        title="SLA & Overdue Check",
        expected_max_age="15m",
        alert_after="30m",
    )(lambda: None)
    Scheduler(deck).sync()
    status = schedule_status(deck, "sla")
    assert (status.status, status.frequency, status.last_run_at) == (
        "pending",
        "Every 15 minutes",
        None,
    )
    assert status.next_run_at == datetime(2025, 6, 2, 9, 15, tzinfo=UTC)
    job, _ = deck.run_now("sla", by="x")
    deck.store.claim_jobs(ClaimRequest("w", ["default"], 1, 30.0))
    assert schedule_status(deck, "sla").status == "running"
    clock.advance(seconds=61)
    assert schedule_status(deck, "sla").may_be_stuck
    deck.store.hand_back_jobs("w", [(job.id, 1)])
    run_job(deck, job.id, summary="5 overdue tasks found")
    status = schedule_status(deck, "sla")
    assert (status.status, status.last_summary) == ("success", "5 overdue tasks found")
    second, _ = deck.run_now("sla", by="x", confirm=True)
    run_job(deck, second.id, succeed=False)
    assert schedule_status(deck, "sla").status == "failed"


def test_a_failed_run_with_tries_left_says_when_it_retries(db_url: str) -> None:
    clock = ManualClock(datetime(2025, 6, 2, 9, 1, tzinfo=UTC))
    deck = make_deck(db_url, clock)
    deck.periodic(name="sla", cron="*/15 * * * *", max_attempts=2)(lambda: None)
    Scheduler(deck).sync()
    job, _ = deck.run_now("sla", by="x")
    [claimed] = deck.store.claim_jobs(ClaimRequest("w", ["default"], 1, 30.0))
    now = clock.now()
    retry = Outcome(
        job.id, 1, claimed.task, AttemptStatus.FAILED, JobState.RETRYABLE, now, now,
        run_at=now + timedelta(seconds=5), error="RuntimeError: boom",
    )  # fmt: skip
    deck.store.complete_jobs("w", [retry], shard=1)
    clock.advance(seconds=1)
    status = schedule_status(deck, "sla")
    assert (status.status, status.retry_in_seconds) == ("failed", 4)
    assert status.badge_text == "Failed · retrying in 4 s"
    assert status.run_now == "active"  # the retry is the manual run, still to run
    clock.advance(seconds=10)
    assert schedule_status(deck, "sla").badge_text == "Failed · retrying now"

    run_job(deck, job.id, succeed=False)  # the last try fails too, a second from now
    status = schedule_status(deck, "sla")
    assert (status.badge_text, status.retry_in_seconds) == ("Failed", None)
    assert (status.run_now, status.run_now_cooldown_left) == ("cooldown", 11.0)
    clock.advance(seconds=11)
    assert schedule_status(deck, "sla").run_now == "ready"


def test_stale_alert_is_sent_once_and_recovery_once(db_url: str, tmp_path: Path) -> None:
    from tests.scheduler.receivers import WebhookReceiver
    from tests.smtp_server import LocalSmtpServer

    clock = ManualClock(datetime(2025, 6, 2, 9, 1, tzinfo=UTC))
    with WebhookReceiver() as hook, LocalSmtpServer() as smtp:
        deck = make_deck(
            db_url,
            clock,
            alert_webhooks=[hook.url],
            alert_emails=["ops@example.com"],
            smtp_url=f"smtp://127.0.0.1:{smtp.port}",
            stale_check_interval=0.0,
        )
        deck.periodic(name="sla", cron="*/15 * * * *", expected_max_age="15m", alert_after="30m")(
            lambda: None
        )
        scheduler = Scheduler(deck)
        scheduler.sync()
        scheduler.check_health(deck.store.list_schedules(), clock.now())
        clock.advance(minutes=31)
        for _ in range(5):  # checked again and again: still one alert
            scheduler.check_health(deck.store.list_schedules(), clock.now())
        assert schedule_status(deck, "sla").stale
        job, _ = deck.run_now("sla", by="ops")
        run_job(deck, job.id)
        for _ in range(3):
            scheduler.check_health(deck.store.list_schedules(), clock.now())
        scheduler.alerter.flush()
        assert [a.kind for a in reversed(deck.store.list_alerts())] == ["stale", "recovered"]
        assert [body["kind"] for body in hook.bodies] == ["stale", "recovered"]
        assert smtp.wait_for(2, timeout=5)
        subjects = [m["Subject"] for m in smtp.messages]
        assert subjects == ["[jobdeck] stale: sla", "[jobdeck] recovered: sla"]
        assert all(a.delivered_at and a.delivery_error is None for a in deck.store.list_alerts())


def test_alerts_reach_a_slow_sink_in_the_order_they_happened(db_url: str) -> None:
    from jobdeck.alerts import RECOVERED, STALE, Alerter, AlertEvent
    from jobdeck.settings import Settings
    from tests.scheduler.receivers import WebhookReceiver

    deck = make_deck(db_url)
    with WebhookReceiver(first_reply_delay=0.3) as hook:
        alerter = Alerter(deck.store, deck.clock, Settings.build(alert_webhooks=[hook.url]))
        for kind, subject in [(STALE, "a"), (RECOVERED, "a"), (STALE, "b")]:
            alerter.emit(AlertEvent(kind, subject, f"{kind} {subject}"))
        alerter.flush()
    assert [(b["kind"], b["subject"]) for b in hook.bodies] == [
        ("stale", "a"),
        ("recovered", "a"),
        ("stale", "b"),
    ]
