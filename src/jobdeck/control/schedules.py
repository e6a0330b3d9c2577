"""Schedule operations: status, recent runs, Run Now and pause (both audited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jobdeck.auditlog import Actor
from jobdeck.control.audit import audited
from jobdeck.control.jobs import JobQuery, list_jobs
from jobdeck.errors import UnknownSchedule
from jobdeck.schedules import ScheduleStatus, status_of
from jobdeck.states import Trigger
from jobdeck.store.base import JobRow, NewJob, ScheduleDef

if TYPE_CHECKING:
    from jobdeck.deck import Deck

RUN_NOW_PRIORITY_BOOST = 10


@dataclass(frozen=True)
class RunNowResult:
    job_id: int
    created: bool  # False: a manual run was already queued or running, and this is it
    schedule: str


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


def run_now(deck: Deck, name: str, actor: Actor, *, reason: str | None = None) -> RunNowResult:
    """Queue a manual run that starts at once; while one is queued or running, return it."""
    return audited(
        deck.store,
        deck.clock,
        actor,
        "run_now",
        f"schedule {name}",
        lambda: _enqueue_run(deck, name, actor.name),
        details=lambda result: {"job_id": result.job_id, "created": result.created},
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


def _enqueue_run(deck: Deck, name: str, by: str) -> RunNowResult:
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
    inserted = deck.store.insert_jobs([job])[0]
    return RunNowResult(inserted.job_id, inserted.created, name)


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
