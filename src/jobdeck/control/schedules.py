"""Schedule operations: status, recent runs, Run Now and pause (both audited)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from jobdeck.auditlog import Actor
from jobdeck.control.audit import audited
from jobdeck.control.jobs import JobQuery, list_jobs
from jobdeck.errors import UnknownSchedule
from jobdeck.schedules import ScheduleStatus, status_of
from jobdeck.states import JobState, Trigger
from jobdeck.store.base import JobRow, ManualRunRequest, NewJob, ScheduleDef

if TYPE_CHECKING:
    from jobdeck.deck import Deck

RUN_NOW_PRIORITY_BOOST = 10


@dataclass(frozen=True)
class RunNowResult:
    """What Run Now did. Not created: ``refused`` says why and ``job_id`` is the run that
    stood in the way: "active" (still queued or running) or "cooldown" (it finished
    ``ran_seconds_ago``; a second run needs ``confirm`` or ``cooldown_left_seconds`` more)."""

    job_id: int
    created: bool
    schedule: str
    state: JobState
    refused: str | None
    finished_at: datetime | None
    cooldown_left_seconds: float | None
    ran_seconds_ago: float | None

    @property
    def message(self) -> str:
        """One line for a toast, the API and the CLI."""
        if self.created:
            return f"queued as job #{self.job_id}, starting now"
        if self.refused == "cooldown":
            ago = math.floor(self.ran_seconds_ago or 0)
            wait = math.ceil(self.cooldown_left_seconds or 0)
            return f"ran {ago} s ago (job #{self.job_id}); confirm to run again, or wait {wait} s"
        doing = "running" if self.state == JobState.RUNNING else "queued"
        return f"already {doing} — job #{self.job_id}"


def schedule_statuses(deck: Deck, name: str | None = None) -> list[ScheduleStatus]:
    now = deck.clock.now()
    return [
        status_of(row, now, _expected_duration(deck, row.definition.task))
        for row in deck.store.list_schedules(name=name)
    ]


def schedule_status(deck: Deck, name: str) -> ScheduleStatus:
    found = schedule_statuses(deck, name)
    if not found:
        raise UnknownSchedule(_unknown(deck, name))
    return found[0]


def recent_runs(deck: Deck, name: str, limit: int = 10) -> list[JobRow]:
    return list_jobs(deck.store, JobQuery(schedule=name), limit=limit).rows


def run_now(
    deck: Deck, name: str, actor: Actor, *, reason: str | None = None, confirm: bool = False
) -> RunNowResult:
    """Queue a manual run that starts at once. While one is queued or running, return it; for
    the schedule's cooldown after one finished, return it too unless ``confirm`` asks for a
    second run. The store decides under a lock, so concurrent calls make one run."""
    return audited(
        deck.store,
        deck.clock,
        actor,
        "run_now",
        f"schedule {name}",
        lambda: _enqueue_run(deck, name, actor.name, confirm),
        details=_run_details,
        reason=reason,
    )


def set_paused(
    deck: Deck, name: str, paused: bool, actor: Actor, *, reason: str | None = None
) -> None:
    audited(
        deck.store,
        deck.clock,
        actor,
        "pause" if paused else "resume",
        f"schedule {name}",
        lambda: _set_paused(deck, name, paused),
        reason=reason,
    )


def _run_details(result: RunNowResult) -> dict[str, object]:
    details: dict[str, object] = {"job_id": result.job_id, "created": result.created}
    if result.refused:
        details["refused"] = result.refused
    return details


def _enqueue_run(deck: Deck, name: str, by: str, confirm: bool) -> RunNowResult:
    definition = _definition(deck, name)
    task = deck.tasks.get(definition.task)
    job = NewJob(
        task=definition.task,
        args_json=definition.args_json,
        queue=definition.queue,
        priority=(task.priority if task else 0) + RUN_NOW_PRIORITY_BOOST,
        max_attempts=task.max_attempts if task else deck.settings.default_max_attempts,
        timeout=task.timeout if task else deck.settings.default_timeout,
        unique_key=f"jobdeck:run-now:{name}",
        trigger=Trigger.MANUAL,
        triggered_by=by,
        schedule=name,
    )
    cooldown = definition.run_now_cooldown_seconds
    run = deck.store.enqueue_manual_run(ManualRunRequest(job, cooldown, confirm))
    ago = None
    if run.finished_at is not None and run.cooldown_left_seconds is not None:
        ago = cooldown - run.cooldown_left_seconds  # by the store's clock, as it decided
    return RunNowResult(
        job_id=run.job_id,
        created=run.created,
        schedule=name,
        state=run.state,
        refused=run.refused,
        finished_at=run.finished_at,
        cooldown_left_seconds=run.cooldown_left_seconds,
        ran_seconds_ago=ago,
    )


def _set_paused(deck: Deck, name: str, paused: bool) -> None:
    if not deck.store.set_schedule_paused(name, paused, deck.clock.now()):
        raise UnknownSchedule(_unknown(deck, name))


def _definition(deck: Deck, name: str) -> ScheduleDef:
    rows = deck.store.list_schedules(name=name)
    if rows:
        return rows[0].definition
    if name in deck.schedules:  # declared in code, not synced yet (no worker started)
        return deck.schedules[name].definition()
    raise UnknownSchedule(_unknown(deck, name))


def _expected_duration(deck: Deck, task_name: str) -> float:
    task = deck.tasks.get(task_name)
    return task.expected_duration if task else deck.settings.expected_duration


def _unknown(deck: Deck, name: str) -> str:
    known = sorted(
        {row.definition.name for row in deck.store.list_schedules()} | set(deck.schedules)
    )
    return f"unknown schedule {name!r}: known schedules are {', '.join(known) or 'none'}"
