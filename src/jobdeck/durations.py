"""Parsing and formatting of the durations people write in settings, such as "15m" or "1h30m"."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal

from jobdeck.errors import ConfigError

__all__ = ["format_duration", "parse_duration"]

_ACCEPTED = "use a number of seconds or forms like 30s, 15m, 2h, 1d"

# Largest unit first: parsing requires this order and formatting emits it.
_UNIT_MICROSECONDS = {
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
}
_NUMBER = r"\d+(?:\.\d+)?"
_PLAIN_SECONDS = re.compile(_NUMBER)
_COMPONENT = re.compile(rf"\s*({_NUMBER})(ms|d|h|m|s)")


def parse_duration(value: str | int | float | timedelta, *, allow_zero: bool = False) -> timedelta:
    """Turn a setting value into a timedelta; bare numbers are seconds.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    duration = _to_timedelta(value)
    if duration < timedelta(0):
        raise ConfigError(f"invalid duration {value!r}: must not be negative ({_ACCEPTED})")
    if duration == timedelta(0) and not allow_zero:
        raise ConfigError(f"invalid duration {value!r}: must be more than zero ({_ACCEPTED})")
    return duration


def format_duration(td: timedelta) -> str:
    """Write a timedelta in the short form parse_duration reads back, e.g. "1d 2h" or "250ms"."""
    if td < timedelta(0):
        return "-" + format_duration(-td)
    remaining = td // timedelta(microseconds=1)
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, remaining = divmod(remaining, _UNIT_MICROSECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    if remaining:
        # Microseconds are rare enough that a decimal "1.5ms" beats adding a unit.
        parts.append(f"{Decimal(remaining) / _UNIT_MICROSECONDS['ms']}ms")
    return " ".join(parts) or "0s"


def _to_timedelta(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    # bool is an int subclass, but "timeout=True" is a mistake, not one second.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"invalid duration {value!r}: {_ACCEPTED}")
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"invalid duration {value!r}: {_ACCEPTED}")
    return _checked_timedelta(value, Decimal(value) * _UNIT_MICROSECONDS["s"])


def _parse_text(value: str) -> timedelta:
    text = value.strip().lower()
    negative = text.startswith("-")
    body = text.removeprefix("-").strip()
    if _PLAIN_SECONDS.fullmatch(body):
        microseconds = Decimal(body) * _UNIT_MICROSECONDS["s"]
    else:
        microseconds = _sum_components(value, body)
    return _checked_timedelta(value, -microseconds if negative else microseconds)


def _sum_components(value: str, body: str) -> Decimal:
    """Add up "1h30m"-style parts, insisting on largest-unit-first so typos like "1m30h" fail."""
    units = list(_UNIT_MICROSECONDS)
    total = Decimal(0)
    position = 0
    previous_rank = -1
    while position < len(body):
        match = _COMPONENT.match(body, position)
        if match is None or units.index(match[2]) <= previous_rank:
            raise ConfigError(f"invalid duration {value!r}: {_ACCEPTED}")
        previous_rank = units.index(match[2])
        total += Decimal(match[1]) * _UNIT_MICROSECONDS[match[2]]
        position = match.end()
    if previous_rank < 0:
        raise ConfigError(f"invalid duration {value!r}: {_ACCEPTED}")
    return total


def _checked_timedelta(value: object, microseconds: Decimal) -> timedelta:
    try:
        return timedelta(microseconds=round(microseconds))
    except OverflowError:
        raise ConfigError(f"invalid duration {value!r}: too large") from None
