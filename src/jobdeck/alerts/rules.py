"""Alert rules beyond staleness, checked by the scheduler loop: the worker fleet below
``expected_workers``, a queue whose oldest job waits too long, a task that fails too often, an
error group never seen before.

Each rule fires once when its condition starts and sends "recovered" once when it ends, as a
stale schedule does. A rule's state is the latest event in the alerts table for that rule
(``details["rule"]``), so it survives restarts and every scheduler of a fleet reads the same
state: one that finds the rule already firing sends nothing. The store has no compare-and-set
for rules as it has for schedules (``change_alert_state``), so two schedulers that check in
the same few milliseconds may both send one event; checks are seconds apart, so that is rare.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jobdeck.alerts.alerter import (
    FAILURE_RATE,
    FLEET_LOW,
    NEW_ERROR_GROUP,
    QUEUE_WAIT,
    RECOVERED,
    Alerter,
    AlertEvent,
)
from jobdeck.durations import format_duration
from jobdeck.fleet import known_queues, oldest_due_at, worker_health

if TYPE_CHECKING:
    from jobdeck.deck import Deck

log = logging.getLogger("jobdeck.alerts")

# The fleet must stay short this long before it fires: a rolling restart takes a worker away
# for seconds (a stopped worker stops counting at once) and should page nobody.
FLEET_HOLD = timedelta(seconds=60)
# How many recent alerts are read for the rules' states. A rule whose last event is older than
# this many alerts falls back to what this process last saw or sent.
STATE_DEPTH = 500


@dataclass(frozen=True)
class Finding:
    """One rule's verdict now: firing True or False, or None when the evidence is too thin to
    change its state either way."""

    rule: str  # the state key: "fleet", "queue_wait:mail", "failure_rate:send_email"
    kind: str
    subject: str
    firing: bool | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class AlertRules:
    """The rules the settings turn on; ``check(now)`` sends what changed and returns it."""

    def __init__(self, deck: Deck, alerter: Alerter) -> None:
        self.deck = deck
        self.alerter = alerter
        self.settings = deck.settings
        self._seen: dict[str, bool] = {}  # rule -> firing, as this process last sent or read
        self._fleet_short_since: datetime | None = None  # when this process saw it go short

    @property
    def enabled(self) -> bool:
        s = self.settings
        return bool(
            s.expected_workers
            or s.alert_queue_wait is not None
            or s.alert_failure_percent is not None
            or s.alert_new_error_group is not None
        )

    def check(self, now: datetime) -> list[AlertEvent]:
        if not self.enabled:
            return []
        states = self._states()
        findings = [
            *self._fleet(now),
            *self._queue_waits(now, states),
            *self._failures(now, states),
            *self._new_error_groups(now, states),
        ]
        sent = []
        for finding in findings:
            firing = states.get(finding.rule, False)
            if finding.firing is None or finding.firing == firing:
                continue
            kind = finding.kind if finding.firing else RECOVERED
            details = {"rule": finding.rule, **finding.details}
            event = AlertEvent(kind, finding.subject, finding.message, details)
            self.alerter.emit(event)
            self._seen[finding.rule] = finding.firing
            sent.append(event)
        return sent

    def _states(self) -> dict[str, bool]:
        states = dict(self._seen)
        found: set[str] = set()
        for alert in self.deck.store.list_alerts(limit=STATE_DEPTH):  # newest first
            rule = alert.details.get("rule") if isinstance(alert.details, dict) else None
            if isinstance(rule, str) and rule not in found:
                found.add(rule)
                states[rule] = alert.kind != RECOVERED
        self._seen.update({rule: states[rule] for rule in found})
        return states

    def _fleet(self, now: datetime) -> list[Finding]:
        expected = self.settings.expected_workers
        if not expected:
            return []
        health = worker_health(
            self.deck.store, self.deck.clock, self.settings.heartbeat_interval, expected
        )
        if health.reason.startswith("database unreachable"):
            return []  # nothing known about the fleet; the scheduler's tick reports the store
        alive = len(health.workers)
        short = alive < expected
        if not short:
            self._fleet_short_since = None
        elif self._fleet_short_since is None:
            self._fleet_short_since = now
        hold = max(FLEET_HOLD, timedelta(seconds=3 * self.settings.heartbeat_interval))
        held = short and now - (self._fleet_short_since or now) >= hold
        lost = f"; lost: {', '.join(w.id for w in health.lost[:5])}" if health.lost else ""
        return [
            Finding(
                "fleet",
                FLEET_LOW,
                "workers",
                True if held else (None if short else False),
                f"{alive} of {expected} expected workers heartbeating{lost}"
                if short
                else f"{alive} workers heartbeating again (expected {expected})",
                {"alive": alive, "expected": expected, "lost": [w.id for w in health.lost]},
            )
        ]

    def _queue_waits(self, now: datetime, states: dict[str, bool]) -> list[Finding]:
        limit = self.settings.alert_queue_wait
        if limit is None:
            return []
        prefix = "queue_wait:"
        # Queues that fired stay checked after their last worker is gone, so they recover.
        firing = {
            rule[len(prefix) :] for rule, on in states.items() if on and rule.startswith(prefix)
        }
        # A queue an operator paused waits on purpose: its jobs' age is no alarm, and an alert
        # already firing for it recovers.
        paused = {pause.queue for pause in self.deck.store.list_paused_queues()}
        findings = []
        for queue in sorted(set(known_queues(self.deck, now)) | firing):
            due = oldest_due_at(self.deck.store, queue)
            waited = max(timedelta(0), now - due) if due is not None else timedelta(0)
            over = queue not in paused and waited.total_seconds() > limit
            words = format_duration(timedelta(seconds=limit))
            if over:
                message = (
                    f"queue {queue}: the oldest job has waited {format_duration(waited)} "
                    f"(alert after {words})"
                )
            elif queue in paused:
                message = f"queue {queue} is paused: its wait is not alerted on"
            else:
                message = f"queue {queue}: no job has waited longer than {words}"
            details = {"queue": queue, "waited_seconds": round(waited.total_seconds())}
            findings.append(
                Finding(prefix + queue, QUEUE_WAIT, f"queue {queue}", over, message, details)
            )
        return findings

    def _failures(self, now: datetime, states: dict[str, bool]) -> list[Finding]:
        percent = self.settings.alert_failure_percent
        if percent is None:
            return []
        prefix = "failure_rate:"
        window = timedelta(seconds=self.settings.alert_failure_window)
        # The rollups are per minute; the current minute's row is still filling up.
        rows = {
            r.key: r
            for r in self.deck.store.stats_by_task(now - window, now + timedelta(minutes=1))
        }
        firing = {
            rule[len(prefix) :] for rule, on in states.items() if on and rule.startswith(prefix)
        }
        findings = []
        for task in sorted(set(rows) | firing):
            row = rows.get(task)
            total, failed = (row.total, row.failed) if row else (0, 0)
            over = failed * 100 > percent * total
            if over and total < self.settings.alert_failure_min_attempts:
                verdict: bool | None = None  # too few attempts to fire on; keep the state
            else:
                verdict = over
            span = format_duration(window)
            message = (
                f"task {task}: {failed} of {total} attempts failed in the last {span} "
                f"(alert above {percent}%)"
            )
            details = {"task": task, "failed": failed, "attempts": total, "window": span}
            findings.append(
                Finding(prefix + task, FAILURE_RATE, f"task {task}", verdict, message, details)
            )
        return findings

    def _new_error_groups(self, now: datetime, states: dict[str, bool]) -> list[Finding]:
        window = self.settings.alert_new_error_group
        if window is None:
            return []
        prefix = "error_group:"
        since = now - timedelta(seconds=window)
        store = self.deck.store
        # The current minute's rollup row is still filling: read to its end.
        recent = store.list_error_groups(since, now + timedelta(minutes=1), True, 1000)
        groups = {g.fingerprint: g for g in recent if g.first_seen >= since}
        # Groups that fired are looked at until they recover, new or not.
        for rule, on in states.items():
            fingerprint = rule[len(prefix) :]
            if on and rule.startswith(prefix) and fingerprint not in groups:
                found = store.get_error_group(fingerprint)
                if found is not None:
                    groups[fingerprint] = found
        findings = []
        for fingerprint, group in sorted(groups.items()):
            quiet = group.last_seen < since
            firing = not group.muted and not quiet
            where = f" in {group.frame}" if group.frame else ""
            if firing:
                message = (
                    f"new error group in task {group.task}: {group.exception}: {group.title}"
                    f"{where} ({_failures(group.failures)} since {group.first_seen:%H:%M} UTC)"
                )
            else:
                why = (
                    "muted"
                    if group.muted
                    else f"no failure for {format_duration(timedelta(seconds=window))}"
                )
                message = f"error group {fingerprint} ({group.exception}: {group.title}): {why}"
            details = {
                "fingerprint": fingerprint,
                "task": group.task,
                "exception": group.exception,
                "title": group.title,
                "frame": group.frame,
                "failures": group.failures,
                "first_seen": group.first_seen,
            }
            findings.append(
                Finding(
                    prefix + fingerprint,
                    NEW_ERROR_GROUP,
                    f"error group {fingerprint}",
                    firing,
                    message,
                    details,
                )
            )
        return findings


def _failures(count: int) -> str:
    return f"{count} failure{'' if count == 1 else 's'}"
