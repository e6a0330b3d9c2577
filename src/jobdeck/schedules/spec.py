"""The tick times of a periodic schedule (cron or fixed interval), and how to say them in words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from jobdeck.durations import format_duration, parse_duration
from jobdeck.errors import ConfigError

__all__ = ["ScheduleSpec", "humanize_ago", "humanize_until"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
_JUST_NOW = timedelta(seconds=45)  # below this, humanize_* says "just now" / "now"

CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_CRON_HELP = (
    "use 5 fields (minute hour day-of-month month day-of-week) "
    "or an alias such as @daily or @hourly"
)

# latest_tick looks back over windows of these sizes before giving up; cron
# expressions such as "0 0 29 2 *" may go eight years between ticks.
_LOOKBACK_WINDOWS = tuple(timedelta(days=days) for days in (1, 32, 366, 3 * 366, 30 * 366))


@dataclass(frozen=True)
class ScheduleSpec:
    """When a periodic schedule ticks: either a cron expression or a fixed interval.

    Build one with ScheduleSpec.build(), which validates and normalises the input:

    >>> ScheduleSpec.build(cron="@daily", timezone="Europe/London").describe()
    'Daily at 12:00 AM (Europe/London)'
    """

    cron: str | None
    every: timedelta | None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.every is None):
            got = "both" if self.cron is not None else "neither"
            raise ConfigError(f"a schedule needs exactly one of cron or every, got {got}")

    @classmethod
    def build(
        cls,
        *,
        cron: str | None = None,
        every: str | int | float | timedelta | None = None,
        timezone: str = "UTC",
        min_every: timedelta = timedelta(seconds=1),
    ) -> ScheduleSpec:
        """Validate user input into a spec; min_every lowers the interval floor (e.g. to 100 ms)."""
        _load_zone(timezone)
        if cron is not None and every is None:
            return cls(cron=normalise_cron(cron), every=None, timezone=timezone)
        if every is not None and cron is None:
            return cls(cron=None, every=_checked_interval(every, min_every), timezone=timezone)
        got = "both" if cron is not None else "neither"
        raise ConfigError(f"a schedule needs exactly one of cron or every, got {got}")

    def next_tick(self, after: datetime) -> datetime:
        """The first tick strictly after `after`, as an aware UTC datetime."""
        after = _as_utc(after)
        if self.every is not None:
            return _next_interval_tick(self.every, after)
        return _next_cron_tick(self._cron_expr(), self._zone(), after)

    def ticks_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every tick t with start < t <= end, oldest first."""
        # Checked here rather than inside the generator so bad input fails at the call.
        return self._ticks_from(_as_utc(start), _as_utc(end))

    def _ticks_from(self, start: datetime, end: datetime) -> Iterator[datetime]:
        tick = self.next_tick(start)
        while tick <= end:
            yield tick
            tick = self.next_tick(tick)

    def latest_tick(self, at_or_before: datetime) -> datetime | None:
        """The most recent tick at or before the moment; None if the schedule never ticked then."""
        moment = _as_utc(at_or_before)
        if self.every is not None:
            return _floor_interval_tick(self.every, moment)
        return self._latest_cron_tick(moment)

    def describe(self) -> str:
        """The frequency in words, e.g. "Every 15 minutes" or "Weekdays at 9:00 AM"."""
        if self.every is not None:
            # Interval ticks are aligned to the UTC epoch, so the zone would only mislead.
            return _describe_interval(self.every)
        phrase = _describe_cron(self._cron_expr())
        if phrase is None:
            return f"Cron: {self.cron} ({self.timezone})"
        return phrase if self.timezone == "UTC" else f"{phrase} ({self.timezone})"

    def _cron_expr(self) -> str:
        assert self.cron is not None  # callers check `every` first
        return self.cron

    def _zone(self) -> ZoneInfo:
        return _load_zone(self.timezone)

    def _latest_cron_tick(self, moment: datetime) -> datetime | None:
        """Search backwards through the forward ticks, so results always agree with next_tick.

        cronsim can iterate in reverse, but its DST handling going backwards is not a
        mirror of going forwards; a tick next_tick never produces would break the
        (schedule, tick time) deduplication downstream.
        """
        for window in _LOOKBACK_WINDOWS:
            first = self.next_tick(moment - window)
            if first <= moment:
                return self._bisect_latest(first, moment)
        return None

    def _bisect_latest(self, known: datetime, moment: datetime) -> datetime:
        # Invariant: `known` is a tick <= moment and the latest tick lies in [known, upper].
        upper = moment
        while True:
            following = self.next_tick(known)
            if following > moment:
                return known
            known = following
            middle = known + (upper - known) / 2
            candidate = self.next_tick(middle)
            if candidate <= moment:
                known = candidate
            else:
                upper = middle


def normalise_cron(expression: str) -> str:
    """Expand aliases, collapse spaces and upper-case names, rejecting what cronsim cannot run."""
    text = " ".join(expression.split())
    text = CRON_ALIASES.get(text.lower(), text).upper()
    fields = text.split(" ")
    if text.startswith("@"):
        raise ConfigError(
            f"unknown cron alias {expression!r}: use one of {', '.join(CRON_ALIASES)}"
        )
    if len(fields) != 5:
        raise ConfigError(
            f"invalid cron expression {expression!r}: needs 5 fields, got {len(fields)}; "
            f"{_CRON_HELP}"
        )
    try:
        next(CronSim(text, datetime(2000, 1, 1)))
    except CronSimError as error:
        raise ConfigError(
            f"invalid cron expression {expression!r}: {str(error).lower()}; {_CRON_HELP}"
        ) from None
    except StopIteration:
        raise ConfigError(f"invalid cron expression {expression!r}: it never runs") from None
    return text


def humanize_ago(moment: datetime, now: datetime) -> str:
    """How long ago something happened: "just now", "1 minute ago", "3 hours ago"."""
    elapsed = now - moment
    if elapsed < -_JUST_NOW:
        return humanize_until(moment, now)
    if elapsed < _JUST_NOW:
        return "just now"
    return f"{_amount_in_words(elapsed)} ago"


def humanize_until(moment: datetime, now: datetime) -> str:
    """How long until something happens: "in 5 minutes"; "now" once it is due or past."""
    remaining = moment - now
    if remaining < _JUST_NOW:
        return "now"
    return f"in {_amount_in_words(remaining)}"


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        # ValueError covers malformed keys such as "../etc" or absolute paths.
        raise ConfigError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/London"
        ) from None


def _checked_interval(every: str | int | float | timedelta, minimum: timedelta) -> timedelta:
    interval = parse_duration(every)
    if interval < minimum:
        raise ConfigError(
            f"invalid interval {every!r}: must be at least {format_duration(minimum)} "
            "(pass min_every to allow shorter)"
        )
    return interval


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(f"naive datetime {moment.isoformat()}: pass a timezone-aware datetime")
    return moment.astimezone(UTC)


# Interval ticks -----------------------------------------------------------------
# Counting whole microseconds from the epoch keeps the arithmetic exact, so every
# process derives the same tick instants with no coordination.


def _next_interval_tick(every: timedelta, after: datetime) -> datetime:
    return _floor_interval_tick(every, after) + every


def _floor_interval_tick(every: timedelta, moment: datetime) -> datetime:
    step = every // ONE_MICROSECOND
    elapsed = (moment - EPOCH) // ONE_MICROSECOND
    return EPOCH + (elapsed // step * step) * ONE_MICROSECOND


# Cron ticks ---------------------------------------------------------------------


def _next_cron_tick(expression: str, zone: ZoneInfo, after: datetime) -> datetime:
    """First cron tick strictly after `after`, with DST handled the way Debian cron does.

    cronsim already implements our rules for expressions with a fixed minute and hour:
    a wall-clock time skipped by spring-forward runs at the first valid minute after
    it, and a time repeated by fall-back runs once, at its first occurrence. Schedules
    with a wildcard minute or hour (every 15 minutes, hourly) follow elapsed time
    instead, so they neither stall for an hour nor bunch up around the change.

    One gap remains: for a fixed-time expression cronsim works on naive wall-clock
    time, so starting inside the repeated hour it can return the first occurrence,
    which is already in the past. Those results are skipped.
    """
    ticks = CronSim(expression, after.astimezone(zone))
    try:
        tick = _utc_minute(next(ticks))
        while tick <= after:
            tick = _utc_minute(next(ticks))
    except StopIteration:
        raise ConfigError(
            f"cron expression {expression!r} has no tick in the 50 years after {after}"
        ) from None
    return tick


def _utc_minute(local_tick: datetime) -> datetime:
    return local_tick.astimezone(UTC).replace(second=0, microsecond=0)


# Descriptions -------------------------------------------------------------------

_WORD_UNITS = (
    ("day", timedelta(days=1)),
    ("hour", timedelta(hours=1)),
    ("minute", timedelta(minutes=1)),
    ("second", timedelta(seconds=1)),
)
_INTERVAL_UNITS = (
    *_WORD_UNITS,
    ("millisecond", timedelta(milliseconds=1)),
    ("microsecond", ONE_MICROSECOND),
)
_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAY_NUMBERS = {name[:3].upper(): index for index, name in enumerate(_DAY_NAMES)}
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_NUMBERS = {name[:3].upper(): index + 1 for index, name in enumerate(_MONTH_NAMES)}
_WEEKDAY_FORMS = {"1-5", "MON-FRI"}
_WEEKEND_FORMS = {"0,6", "6,0", "6,7", "SAT,SUN", "SUN,SAT", "6-7"}


def _amount_in_words(span: timedelta) -> str:
    """The largest whole unit that fits, rounded down: 119 minutes is "1 hour"."""
    for name, size in _WORD_UNITS:
        if span >= size:
            return _plural(span // size, name)
    return _plural(0, "second")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _describe_interval(every: timedelta) -> str:
    """Name the interval in the largest unit that divides it exactly: 90 s is "Every 90 seconds"."""
    for name, size in _INTERVAL_UNITS:
        if every % size == timedelta(0):
            count = every // size
            return f"Every {name}" if count == 1 else f"Every {count} {name}s"
    raise AssertionError("every timedelta is a whole number of microseconds")


def _describe_cron(expression: str) -> str | None:
    """Phrase the common cron shapes; None means "too unusual, show the expression"."""
    minute, hour, day, month, weekday = expression.split(" ")
    if (day, month, weekday) == ("*", "*", "*"):
        return _describe_within_day(minute, hour)
    if not (minute.isdigit() and hour.isdigit()):
        return None
    at = _clock_time(int(hour), int(minute))
    if (day, month) == ("*", "*"):
        return _describe_weekly(weekday, at)
    if weekday != "*" or not day.isdigit():
        return None
    if month == "*":
        return f"Monthly on day {int(day)} at {at}"
    month_number = _MONTH_NUMBERS.get(month) or (int(month) if month.isdigit() else None)
    if month_number is None:
        return None
    return f"Yearly on {_MONTH_NAMES[month_number - 1]} {int(day)} at {at}"


def _describe_within_day(minute: str, hour: str) -> str | None:
    """Schedules that run every day: every N minutes, hourly, every N hours, or daily."""
    if hour == "*":
        if minute == "*":
            return "Every minute"
        if minute.startswith("*/") and minute[2:].isdigit():
            step = int(minute[2:])
            return "Every minute" if step == 1 else f"Every {step} minutes"
        if minute.isdigit():
            return "Every hour" if int(minute) == 0 else f"Hourly at :{int(minute):02d}"
        return None
    if not minute.isdigit():
        return None
    if hour.isdigit():
        return f"Daily at {_clock_time(int(hour), int(minute))}"
    if hour.startswith("*/") and hour[2:].isdigit():
        step = int(hour[2:])
        every = "Every hour" if step == 1 else f"Every {step} hours"
        return every if int(minute) == 0 else f"{every} at :{int(minute):02d}"
    return None


def _describe_weekly(weekday: str, at: str) -> str | None:
    if weekday in _WEEKDAY_FORMS:
        return f"Weekdays at {at}"
    if weekday in _WEEKEND_FORMS:
        return f"Weekends at {at}"
    number = _DAY_NUMBERS.get(weekday)
    if number is None and weekday.isdigit():
        number = int(weekday) % 7  # cron allows 7 for Sunday
    if number is None:
        return None
    return f"Every {_DAY_NAMES[number]} at {at}"


def _clock_time(hour: int, minute: int) -> str:
    """12-hour clock as people read it: 0:00 is "12:00 AM", 14:30 is "2:30 PM"."""
    suffix = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d} {suffix}"
