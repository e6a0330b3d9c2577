"""How a periodic schedule is declared with ``@deck.periodic`` and checked when it is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jobdeck.durations import parse_duration
from jobdeck.errors import ConfigError, SerializationError
from jobdeck.jsonvalues import dumps_checked
from jobdeck.limits import PayloadLimits, check_name, encode_args
from jobdeck.schedules.spec import ScheduleSpec
from jobdeck.store.base import ScheduleDef
from jobdeck.tasks import Task

CATCH_UP_POLICIES = ("latest", "skip")
# The guide: "Wait 10 seconds if you just clicked it". Run Now answers with the last manual
# run this long after it finished, unless a second run is confirmed.
DEFAULT_RUN_NOW_COOLDOWN = timedelta(seconds=10)


@dataclass(frozen=True)
class Schedule:
    """A schedule declared with ``@deck.periodic``."""

    name: str
    task: Task[..., Any]
    spec: ScheduleSpec
    title: str
    description: str = ""
    expected_max_age: timedelta | None = None
    alert_after: timedelta | None = None
    catch_up: str = "latest"
    args: dict[str, Any] = field(default_factory=dict)
    run_now_cooldown: timedelta = DEFAULT_RUN_NOW_COOLDOWN

    def definition(self) -> ScheduleDef:
        return ScheduleDef(
            name=self.name,
            task=self.task.name,
            title=self.title,
            cron=self.spec.cron,
            every_seconds=self.spec.every.total_seconds() if self.spec.every else None,
            timezone=self.spec.timezone,
            description=self.description,
            expected_max_age_seconds=_seconds(self.expected_max_age),
            alert_after_seconds=_seconds(self.alert_after),
            catch_up=self.catch_up,
            args_json=dumps_checked(self.args, "args"),
            queue=self.task.queue,
            run_now_cooldown_seconds=self.run_now_cooldown.total_seconds(),
        )


def build_schedule(
    task: Task[..., Any],
    *,
    name: str,
    cron: str | None,
    every: str | float | timedelta | None,
    timezone: str,
    title: str | None,
    description: str,
    expected_max_age: str | float | timedelta | None,
    alert_after: str | float | timedelta | None,
    catch_up: str,
    args: dict[str, Any] | None,
    min_every: timedelta,
    run_now_cooldown: str | float | timedelta = DEFAULT_RUN_NOW_COOLDOWN,
) -> Schedule:
    """Validate a declaration; every mistake is a ConfigError naming the schedule."""
    try:
        spec = ScheduleSpec.build(cron=cron, every=every, timezone=timezone, min_every=min_every)
        max_age = parse_duration(expected_max_age) if expected_max_age is not None else None
        alert = parse_duration(alert_after) if alert_after is not None else None
        cooldown = _cooldown(run_now_cooldown)
    except ConfigError as exc:
        raise ConfigError(f"schedule {name!r}: {exc}") from None
    if max_age is not None and alert is not None and alert < max_age:
        raise ConfigError(
            f"schedule {name!r}: alert_after ({alert}) is below expected_max_age ({max_age}); "
            "the alert threshold must be at least the expected age"
        )
    if catch_up not in CATCH_UP_POLICIES:
        raise ConfigError(f"schedule {name!r}: catch_up must be one of {CATCH_UP_POLICIES}")
    call_args = dict(args or {})
    task.check_args(call_args)
    # Every tick enqueues these: a payload past the limits fails here once, not at each tick.
    limits = PayloadLimits.of(task.deck.settings)
    try:
        check_name(name, "schedule", limits)
        encode_args(call_args, limits)
    except SerializationError as exc:
        raise ConfigError(f"schedule {name[:80]!r}: {exc}") from None
    return Schedule(
        name=name,
        task=task,
        spec=spec,
        title=title or _title_from(name),
        description=description,
        expected_max_age=max_age,
        alert_after=alert,
        catch_up=catch_up,
        args=call_args,
        run_now_cooldown=cooldown,
    )


def schedule_args(definition: ScheduleDef) -> dict[str, Any]:
    args = json.loads(definition.args_json)
    return args if isinstance(args, dict) else {}


def _cooldown(value: str | float | timedelta) -> timedelta:
    """0 turns the cooldown off (a run queued or running is still never doubled)."""
    try:
        return parse_duration(value, allow_zero=True)
    except ConfigError as exc:
        raise ConfigError(f"run_now_cooldown: {exc}") from None


def _title_from(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").split(".")[-1].split()
    return " ".join(words).capitalize()


def _seconds(delta: timedelta | None) -> float | None:
    return delta.total_seconds() if delta is not None else None
