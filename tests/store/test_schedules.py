"""The schedule and alert verbs on both stores: syncing declared schedules, claiming ticks
exactly once, the bookmark, pausing, alert states and the alert log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobdeck.clock import ManualClock
from jobdeck.states import AttemptStatus, JobState, Trigger
from jobdeck.store.base import ClaimRequest, NewJob, Outcome, ScheduleDef, Store

T0 = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)

NIGHTLY = ScheduleDef(
    name="nightly",
    task="reports.build",
    title="Nightly report",
    cron="0 3 * * *",
    timezone="Europe/Paris",
    description="Builds the report",
    expected_max_age_seconds=86_400.0,
    alert_after_seconds=600.0,
    catch_up="skip",
    args_json='{"full":true}',
    queue="reports",
)
EVERY_MINUTE = ScheduleDef(name="ping", task="ping", title="Ping", every_seconds=60.0)


def tick_job(schedule: str, tick_at: datetime, unique_key: str | None = None) -> NewJob:
    return NewJob(
        schedule,
        schedule=schedule,
        tick_at=tick_at,
        trigger=Trigger.CRON,
        triggered_by="scheduler",
        unique_key=unique_key,
    )


def test_sync_declares_schedules_and_deactivates_the_undeclared(store: Store) -> None:
    store.sync_schedules([NIGHTLY, EVERY_MINUTE], T0)
    rows = store.list_schedules()
    assert [r.definition for r in rows] == [NIGHTLY, EVERY_MINUTE]  # active first, by name
    nightly = rows[0]
    assert nightly.active and not nightly.paused and nightly.alert_state == "ok"
    assert nightly.created_at == T0 and nightly.last_tick_at is None
    assert nightly.last_job_id is None and nightly.running_job_id is None

    changed = ScheduleDef(name="ping", task="ping", title="Ping twice", every_seconds=30.0)
    store.sync_schedules([changed], T0 + timedelta(hours=1))
    assert [(r.definition.name, r.active) for r in store.list_schedules()] == [
        ("ping", True),
        ("nightly", False),  # kept, with its history, but no longer declared
    ]
    assert [r.definition for r in store.list_schedules(active_only=True)] == [changed]
    [only] = store.list_schedules(name="nightly")
    assert only.definition == NIGHTLY and only.created_at == T0
    assert store.list_schedules(name="nobody") == []
    store.sync_schedules([], T0 + timedelta(hours=2))
    assert store.list_schedules(active_only=True) == []


def test_a_tick_is_enqueued_once_and_moves_the_bookmark(store: Store) -> None:
    store.clock = ManualClock(T0)  # type: ignore[attr-defined]
    store.sync_schedules([EVERY_MINUTE], T0)
    tick = T0 - timedelta(minutes=1)
    job_id = store.enqueue_tick("ping", tick, tick_job("ping", tick))
    assert job_id is not None
    assert store.enqueue_tick("ping", tick, tick_job("ping", tick)) is None  # another won
    job = store.get_job(job_id)
    assert job is not None and (job.schedule, job.tick_at, job.trigger) == ("ping", tick, "cron")
    assert job.state == JobState.AVAILABLE
    [row] = store.list_schedules(name="ping")
    assert row.last_tick_at == tick

    # A tick whose job's unique key is held by an active job answers with that job.
    keyed = store.enqueue_tick("ping", T0, tick_job("ping", T0, unique_key="ping:once"))
    again = store.enqueue_tick(
        "ping", T0 + timedelta(minutes=1), tick_job("ping", T0, unique_key="ping:once")
    )
    assert keyed is not None and again == keyed
    [row] = store.list_schedules(name="ping")
    assert row.last_tick_at == T0 + timedelta(minutes=1)


def test_the_bookmark_only_moves_forward(store: Store) -> None:
    store.sync_schedules([EVERY_MINUTE], T0)
    store.advance_schedule("ping", T0)
    store.advance_schedule("ping", T0 - timedelta(minutes=5))  # a slower scheduler, late
    [row] = store.list_schedules(name="ping")
    assert row.last_tick_at == T0
    store.advance_schedule("ping", T0 + timedelta(minutes=1))
    [row] = store.list_schedules(name="ping")
    assert row.last_tick_at == T0 + timedelta(minutes=1)
    store.advance_schedule("nobody", T0)  # no such schedule: nothing to move
    assert [r.definition.name for r in store.list_schedules()] == ["ping"]


def test_the_latest_run_and_the_running_job_show_on_the_schedule(store: Store) -> None:
    store.clock = ManualClock(T0)  # type: ignore[attr-defined]
    store.sync_schedules([EVERY_MINUTE], T0)
    first = store.enqueue_tick("ping", T0, tick_job("ping", T0))
    [job] = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    assert job.id == first
    [row] = store.list_schedules(name="ping")
    assert (row.running_job_id, row.running_since) == (first, T0)
    assert (row.last_job_id, row.last_state) == (first, JobState.RUNNING)

    finished = T0 + timedelta(seconds=2)
    outcome = Outcome(
        job.id, job.attempt, job.task, AttemptStatus.SUCCEEDED, JobState.SUCCEEDED,
        job.started_at, finished, summary="pinged",
    )  # fmt: skip
    store.complete_jobs("w1", [outcome], shard=1)
    [row] = store.list_schedules(name="ping")
    assert row.running_job_id is None and row.running_since is None
    assert (row.last_state, row.last_summary, row.last_trigger) == (
        JobState.SUCCEEDED,
        "pinged",
        "cron",
    )
    assert (row.last_started_at, row.last_finished_at) == (T0, finished)
    assert row.last_duration_ms == 2000 and row.last_success_at == finished


def test_pausing_and_resuming(store: Store) -> None:
    store.sync_schedules([NIGHTLY], T0)
    assert store.set_schedule_paused("nightly", True, T0)
    [row] = store.list_schedules(name="nightly")
    assert row.paused
    store.sync_schedules([NIGHTLY], T0 + timedelta(minutes=1))  # a deploy keeps the pause
    [row] = store.list_schedules(name="nightly")
    assert row.paused
    assert store.set_schedule_paused("nightly", False, T0)
    [row] = store.list_schedules(name="nightly")
    assert not row.paused
    assert not store.set_schedule_paused("nobody", True, T0)


def test_alert_state_changes_only_from_the_expected_states(store: Store) -> None:
    store.sync_schedules([NIGHTLY], T0)
    assert store.change_alert_state("nightly", ["ok"], "late")
    assert not store.change_alert_state("nightly", ["ok"], "late")  # another scheduler did
    [row] = store.list_schedules(name="nightly")
    assert row.alert_state == "late"
    assert store.change_alert_state("nightly", ["late", "failing"], "ok")
    assert not store.change_alert_state("nightly", [], "late")
    assert not store.change_alert_state("nobody", ["ok"], "late")
    [row] = store.list_schedules(name="nightly")
    assert row.alert_state == "ok"


def test_alerts_are_recorded_listed_newest_first_and_marked_delivered(store: Store) -> None:
    first = store.record_alert("late", "nightly", "Nightly is late", '{"minutes":12}', T0)
    second = store.record_alert("failed", "ping", "Ping failed", "{}", T0 + timedelta(seconds=1))
    assert second != first
    store.mark_alert_delivered(first, T0 + timedelta(seconds=5), None)
    store.mark_alert_delivered(second, T0 + timedelta(seconds=6), "smtp: connection refused")

    newest, oldest = store.list_alerts()
    assert (newest.id, newest.kind, newest.subject, newest.message) == (
        second,
        "failed",
        "ping",
        "Ping failed",
    )
    assert newest.delivery_error == "smtp: connection refused"
    assert newest.delivered_at == T0 + timedelta(seconds=6)
    assert (oldest.id, oldest.details, oldest.created_at) == (first, {"minutes": 12}, T0)
    assert oldest.delivered_at == T0 + timedelta(seconds=5) and oldest.delivery_error is None
    assert [a.id for a in store.list_alerts(limit=1)] == [second]
