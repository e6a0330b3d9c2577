"""parse_duration and format_duration: the accepted forms, the rejected ones, and round trips."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobdeck.durations import format_duration, parse_duration
from jobdeck.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 2h", timedelta(days=1, hours=2)),
        ("500ms", timedelta(milliseconds=500)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("0.1s", timedelta(milliseconds=100)),
        ("90", timedelta(seconds=90)),
        ("2.5", timedelta(seconds=2.5)),
        ("  2H ", timedelta(hours=2)),
    ],
)
def test_parses_text_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (90, timedelta(seconds=90)),
        (0.25, timedelta(milliseconds=250)),
        (0.1, timedelta(milliseconds=100)),
        (timedelta(minutes=3), timedelta(minutes=3)),
    ],
)
def test_numbers_are_seconds_and_timedeltas_pass_through(
    value: float | timedelta, expected: timedelta
) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(
    "value", ["abc", "", "5 s", "1m30h", "1h1h", "1.5.5s", "h", "10x", True, None, float("nan")]
)
def test_rejects_garbage_with_the_accepted_forms(value: object) -> None:
    with pytest.raises(ConfigError, match=r"invalid duration .*forms like 30s, 15m, 2h, 1d"):
        parse_duration(value)  # type: ignore[arg-type]


def test_error_names_the_bad_value() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration("abc")
    assert str(caught.value) == (
        "invalid duration 'abc': use a number of seconds or forms like 30s, 15m, 2h, 1d"
    )


@pytest.mark.parametrize("value", ["-5s", "-1", -3, timedelta(seconds=-1)])
def test_rejects_negative(value: str | int | timedelta) -> None:
    with pytest.raises(ConfigError, match="must not be negative"):
        parse_duration(value)


@pytest.mark.parametrize("value", ["0", "0s", 0, timedelta(0)])
def test_zero_needs_allow_zero(value: str | int | timedelta) -> None:
    with pytest.raises(ConfigError, match="must be more than zero"):
        parse_duration(value)
    assert parse_duration(value, allow_zero=True) == timedelta(0)


def test_rejects_overflow() -> None:
    with pytest.raises(ConfigError, match="too large"):
        parse_duration("99999999999999d")


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(minutes=15), "15m"),
        (timedelta(seconds=45), "45s"),
        (timedelta(milliseconds=250), "250ms"),
        (timedelta(days=1, hours=2), "1d 2h"),
        (timedelta(hours=36), "1d 12h"),
        (timedelta(hours=1, minutes=30), "1h 30m"),
        (timedelta(seconds=1, milliseconds=500), "1s 500ms"),
        (timedelta(microseconds=1500), "1.5ms"),
        (timedelta(0), "0s"),
        (timedelta(seconds=-5), "-5s"),
    ],
)
def test_formats_short_form(td: timedelta, expected: str) -> None:
    assert format_duration(td) == expected


@pytest.mark.parametrize(
    "td",
    [
        timedelta(days=3, hours=4, minutes=5, seconds=6, milliseconds=7),
        timedelta(hours=36),
        timedelta(microseconds=250),
        timedelta(milliseconds=100),
    ],
)
def test_format_round_trips_through_parse(td: timedelta) -> None:
    assert parse_duration(format_duration(td)) == td
