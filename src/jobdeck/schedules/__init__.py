"""Periodic schedules: tick math (`spec`), how they are declared (`declaration`), and the
status people see for each (`status`)."""

from jobdeck.schedules.declaration import (
    CATCH_UP_POLICIES,
    DEFAULT_RUN_NOW_COOLDOWN,
    Schedule,
    build_schedule,
    schedule_args,
)
from jobdeck.schedules.spec import ScheduleSpec
from jobdeck.schedules.status import ScheduleStatus, spec_of, status_of

__all__ = [
    "CATCH_UP_POLICIES",
    "DEFAULT_RUN_NOW_COOLDOWN",
    "Schedule",
    "ScheduleSpec",
    "ScheduleStatus",
    "build_schedule",
    "schedule_args",
    "spec_of",
    "status_of",
]
