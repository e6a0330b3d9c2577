"""The scheduler loop: turns due ticks into jobs exactly once, and watches schedules' health."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobdeck.alerts import RECOVERED, STALE, Alerter, AlertEvent
from jobdeck.alerts.rules import AlertRules
from jobdeck.errors import SerializationError
from jobdeck.schedules import Schedule, status_of
from jobdeck.states import Trigger
from jobdeck.store.base import NewJob, ScheduleRow
from jobdeck.tasks import BoundTask, JobOptions
from jobdeck.worker.services import Looper

if TYPE_CHECKING:
    from jobdeck.deck import Deck

log = logging.getLogger("jobdeck.worker.scheduler")


class Scheduler(Looper):
    """Runs in every worker (and alone as ``jobdeck scheduler``); needs no leader.

    Each due tick is offered to the store, which claims (schedule, tick) with a unique key and
    inserts the job in the same transaction: however many schedulers race, one wins, and a
    tick never exists without its job.
    """

    name = "scheduler"

    def __init__(self, deck: Deck, alerter: Alerter | None = None) -> None:
        settings = deck.settings
        super().__init__(settings.scheduler_interval)
        self.deck = deck
        self.store = deck.store
        self.clock = deck.clock
        self.grace = timedelta(seconds=max(settings.misfire_grace, 3 * settings.scheduler_interval))
        self.alerter = alerter or Alerter(deck.store, deck.clock, settings)
        self.rules = AlertRules(deck, self.alerter)
        self.stale_check_interval = settings.stale_check_interval
        self.enqueued = 0
        self._last_health_check = float("-inf")

    def start(self) -> None:
        self.sync()
        super().start()

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self.alerter.flush(timeout)

    def sync(self) -> None:
        """Write the schedules declared in code; those no longer declared become inactive."""
        definitions = [s.definition() for s in self.deck.schedules.values()]
        self.store.sync_schedules(definitions, self.clock.now())
        log.info("scheduler: %d schedules synced", len(definitions))

    def tick(self) -> None:
        now = self.clock.now()
        rows = {row.definition.name: row for row in self.store.list_schedules(active_only=True)}
        for schedule in self.deck.schedules.values():
            row = rows.get(schedule.name)
            if row is not None and not row.paused:
                try:
                    self.fire_due(schedule, row.last_tick_at, now)
                except SerializationError as exc:  # one bad schedule never stops the others
                    log.error("scheduler: %s not enqueued: %s", schedule.name, exc)
        if time.monotonic() - self._last_health_check >= self.stale_check_interval:
            self._last_health_check = time.monotonic()
            self.check_health(list(rows.values()), now)

    def fire_due(self, schedule: Schedule, last_tick: datetime | None, now: datetime) -> int:
        """Enqueue the ticks due since ``last_tick``; returns how many this scheduler won."""
        if last_tick is None:
            # First sight of a schedule: start from now rather than replaying the past.
            self.store.advance_schedule(schedule.name, schedule.spec.latest_tick(now) or now)
            return 0
        won = 0
        for tick in self._ticks_to_fire(schedule, last_tick, now):
            if self.store.enqueue_tick(schedule.name, tick, self._job_for(schedule, tick)):
                won += 1
        self.enqueued += won
        return won

    def _ticks_to_fire(
        self, schedule: Schedule, last_tick: datetime, now: datetime
    ) -> list[datetime]:
        cutoff = now - self.grace
        spec = schedule.spec
        recent = list(spec.ticks_between(max(last_tick, cutoff), now))
        missed = spec.latest_tick(cutoff)
        if missed is None or missed <= last_tick:
            return recent
        # Ticks older than the grace were missed (downtime). "latest" runs once for all of
        # them, unless a current tick already gives that run; "skip" drops them.
        if schedule.catch_up == "latest" and not recent:
            log.info("scheduler: %s missed ticks up to %s; running once", schedule.name, missed)
            return [missed]
        log.info("scheduler: %s skipping missed ticks up to %s", schedule.name, missed)
        self.store.advance_schedule(schedule.name, missed)
        return recent

    def _job_for(self, schedule: Schedule, tick: datetime) -> NewJob:
        options = JobOptions(
            trigger=Trigger.CRON, triggered_by="scheduler", schedule=schedule.name, tick_at=tick
        )
        return BoundTask(schedule.task, options).new_job(schedule.args)

    def check_health(self, rows: list[ScheduleRow], now: datetime) -> None:
        """Emit "stale" once when a schedule's last success is too old, "recovered" once after;
        then the same for the alert rules the settings turn on (fleet, queue wait, failures)."""
        self._check_schedules(rows, now)
        self.rules.check(now)

    def _check_schedules(self, rows: list[ScheduleRow], now: datetime) -> None:
        for row in rows:
            task = self.deck.tasks.get(row.definition.task)
            expected = task.expected_duration if task else self.deck.settings.expected_duration
            status = status_of(row, now, expected)
            name = row.definition.name
            if status.stale and self.store.change_alert_state(name, ["ok", "failing"], "stale"):
                age = now - (row.last_success_at or row.created_at)
                self.alerter.emit(
                    AlertEvent(
                        STALE,
                        name,
                        f"{status.title}: no successful run for {_words(age)} "
                        f"(alert after {_words(status.alert_after)})",
                        {
                            "schedule": name,
                            "last_success_at": row.last_success_at,
                            "alert_after_seconds": row.definition.alert_after_seconds,
                        },
                    )
                )
            elif status.status == "failed" and not status.stale:
                self.store.change_alert_state(name, ["ok"], "failing")
            elif (
                status.status == "success"
                and not status.stale
                and self.store.change_alert_state(name, ["stale", "failing"], "ok")
            ):
                self.alerter.emit(
                    AlertEvent(
                        RECOVERED,
                        name,
                        f"{status.title}: healthy again (last success {now:%H:%M})",
                        {
                            "schedule": name,
                            "last_success_at": row.last_success_at,
                            "job_id": row.last_job_id,
                        },
                    )
                )


def _words(delta: timedelta | None) -> str:
    from jobdeck.durations import format_duration

    return format_duration(delta) if delta is not None else "-"


def run_scheduler(deck: Deck) -> None:
    """``jobdeck scheduler``: the loop alone, until SIGTERM or SIGINT."""
    import signal
    import threading

    deck.store.check_schema()
    stop = threading.Event()

    def handle(signum: int, frame: object) -> None:
        log.info("scheduler: received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    scheduler = Scheduler(deck)
    scheduler.start()
    log.info("scheduler running for %d schedules", len(deck.schedules))
    stop.wait()
    scheduler.stop()
