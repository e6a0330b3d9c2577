"""ScheduleSpec tick math (epoch-aligned intervals, cron across DST) and its wording for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobdeck.errors import ConfigError
from jobdeck.schedules.spec import ScheduleSpec, humanize_ago, humanize_until

NEW_YORK = "America/New_York"
MS_100 = timedelta(milliseconds=100)
MS_50 = timedelta(milliseconds=50)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def local(
    zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone), fold=fold)


def ticks_on_local_day(
    spec: ScheduleSpec, zone: str, year: int, month: int, day: int
) -> list[datetime]:
    start = local(zone, year, month, day)
    end = start.astimezone(UTC) + timedelta(days=1, hours=1)  # the fall-back day has 25 hours
    return [t for t in spec.ticks_between(start, end) if t.astimezone(ZoneInfo(zone)).day == day]


# Building and validation -----------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "expression"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_aliases_normalise_to_five_fields(alias: str, expression: str) -> None:
    assert ScheduleSpec.build(cron=alias).cron == expression


def test_cron_is_normalised() -> None:
    assert ScheduleSpec.build(cron="  0  9 * *   mon-fri ").cron == "0 9 * * MON-FRI"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("* * * *", "needs 5 fields, got 4"),
        ("0 0 * * * *", "needs 5 fields, got 6"),
        ("", "needs 5 fields, got 1"),
        ("61 * * * *", "bad minute"),
        ("0 24 * * *", "bad hour"),
        ("0 0 32 * *", "bad day-of-month"),
        ("0 0 30 2 *", "bad day-of-month"),
        ("0 0 * 13 *", "bad month"),
        ("0 0 * * 8", "bad day-of-week"),
        ("*/0 * * * *", "bad minute"),
        ("x * * * *", "bad minute"),
    ],
)
def test_invalid_cron_names_the_expression(expression: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ScheduleSpec.build(cron=expression)
    message = str(caught.value)
    assert message.startswith(f"invalid cron expression {expression!r}: {reason}")
    assert "minute hour day-of-month month day-of-week" in message


def test_unknown_alias_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown cron alias '@often': use one of @yearly"):
        ScheduleSpec.build(cron="@often")


@pytest.mark.parametrize("zone", ["Mars/Base", "", "../etc/passwd", "/etc/localtime"])
def test_unknown_time_zone(zone: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ScheduleSpec.build(cron="@daily", timezone=zone)
    assert str(caught.value) == (
        f"unknown time zone {zone!r}: use an IANA name such as Europe/London"
    )


def test_needs_exactly_one_of_cron_and_every() -> None:
    with pytest.raises(ConfigError, match="exactly one of cron or every, got both"):
        ScheduleSpec.build(cron="@daily", every="1h")
    with pytest.raises(ConfigError, match="exactly one of cron or every, got neither"):
        ScheduleSpec.build()
    with pytest.raises(ConfigError, match="got neither"):
        ScheduleSpec(cron=None, every=None)


def test_every_accepts_duration_forms() -> None:
    assert ScheduleSpec.build(every="15m").every == timedelta(minutes=15)
    assert ScheduleSpec.build(every=30).every == timedelta(seconds=30)
    assert ScheduleSpec.build(every=timedelta(hours=2)).every == timedelta(hours=2)


def test_every_below_one_second_needs_min_every() -> None:
    with pytest.raises(ConfigError, match=r"invalid interval '100ms': must be at least 1s"):
        ScheduleSpec.build(every="100ms")
    assert ScheduleSpec.build(every="100ms", min_every=MS_50).every == MS_100
    with pytest.raises(ConfigError, match="invalid interval '10ms'"):
        ScheduleSpec.build(every="10ms", min_every=MS_50)


@pytest.mark.parametrize("every", ["0s", "-5m", "soon"])
def test_every_rejects_bad_durations(every: str) -> None:
    with pytest.raises(ConfigError, match="invalid duration"):
        ScheduleSpec.build(every=every)


def test_naive_datetimes_are_rejected() -> None:
    spec = ScheduleSpec.build(every="1m")
    with pytest.raises(ConfigError, match="timezone-aware"):
        spec.next_tick(datetime(2025, 1, 1))
    with pytest.raises(ConfigError, match="timezone-aware"):
        spec.ticks_between(utc(2025, 1, 1), datetime(2025, 1, 2))


# Interval ticks -----------------------------------------------------------------


def test_interval_ticks_align_to_the_epoch() -> None:
    every_7m = ScheduleSpec.build(every="7m")
    tick = every_7m.next_tick(utc(2025, 6, 1, 12, 0, 0))
    assert (tick - utc(1970, 1, 1)) % timedelta(minutes=7) == timedelta(0)
    assert tick - utc(2025, 6, 1, 12) <= timedelta(minutes=7)


def test_independent_specs_agree_on_ticks() -> None:
    # Two processes that started at different times must compute the same ticks.
    first = ScheduleSpec.build(every="15m")
    second = ScheduleSpec.build(every=900, timezone="Asia/Kolkata")
    start = utc(2025, 6, 1, 12, 3, 17, 123456)
    assert first.next_tick(start) == second.next_tick(start) == utc(2025, 6, 1, 12, 15)
    window = (start, start + timedelta(hours=3))
    assert list(first.ticks_between(*window)) == list(second.ticks_between(*window))


def test_interval_next_tick_is_strictly_after() -> None:
    spec = ScheduleSpec.build(every="1h")
    assert spec.next_tick(utc(2025, 6, 1, 12)) == utc(2025, 6, 1, 13)
    assert spec.latest_tick(utc(2025, 6, 1, 12)) == utc(2025, 6, 1, 12)
    assert spec.latest_tick(utc(2025, 6, 1, 12, 59)) == utc(2025, 6, 1, 12)


def test_sub_second_interval() -> None:
    spec = ScheduleSpec.build(every="100ms", min_every=MS_50)
    start = utc(2025, 6, 1, 12, 0, 0, 30_000)
    ticks = list(spec.ticks_between(start, start + timedelta(seconds=1)))
    assert len(ticks) == 10
    assert ticks[0] == utc(2025, 6, 1, 12, 0, 0, 100_000)
    assert all(later - earlier == MS_100 for earlier, later in pairwise(ticks))
    latest = spec.latest_tick(utc(2025, 6, 1, 12, 0, 0, 250_000))
    assert latest == utc(2025, 6, 1, 12, 0, 0, 200_000)


def test_non_utc_input_gives_utc_output() -> None:
    spec = ScheduleSpec.build(every="1h")
    tick = spec.next_tick(local("Asia/Kolkata", 2025, 6, 1, 12, 0))  # 06:30 UTC
    assert tick == utc(2025, 6, 1, 7)
    assert tick.tzinfo is UTC


# Cron ticks ---------------------------------------------------------------------


def test_quarter_hour_cron_gives_eight_ticks_in_two_hours() -> None:
    spec = ScheduleSpec.build(cron="*/15 * * * *")
    ticks = list(spec.ticks_between(utc(2025, 6, 1, 10), utc(2025, 6, 1, 12)))
    assert len(ticks) == 8
    assert ticks[0] == utc(2025, 6, 1, 10, 15)
    assert ticks[-1] == utc(2025, 6, 1, 12)


def test_cron_ticks_have_no_seconds() -> None:
    spec = ScheduleSpec.build(cron="* * * * *")
    tick = spec.next_tick(utc(2025, 6, 1, 10, 0, 59, 999_999))
    assert tick == utc(2025, 6, 1, 10, 1)
    assert spec.next_tick(tick) == utc(2025, 6, 1, 10, 2)


def test_cron_latest_tick() -> None:
    daily = ScheduleSpec.build(cron="0 8 * * *")
    assert daily.latest_tick(utc(2025, 6, 1, 8)) == utc(2025, 6, 1, 8)
    assert daily.latest_tick(utc(2025, 6, 1, 7, 59)) == utc(2025, 5, 31, 8)
    leap_day = ScheduleSpec.build(cron="0 0 29 2 *")
    assert leap_day.latest_tick(utc(2027, 6, 1)) == utc(2024, 2, 29)


def test_kolkata_quarter_hours_follow_the_half_hour_offset() -> None:
    spec = ScheduleSpec.build(cron="*/15 * * * *", timezone="Asia/Kolkata")
    ticks = list(spec.ticks_between(utc(2025, 6, 1, 10), utc(2025, 6, 1, 11)))
    # Local quarter hours at +05:30 are still quarter hours in UTC.
    assert ticks == [utc(2025, 6, 1, 10, minute) for minute in (15, 30, 45)] + [utc(2025, 6, 1, 11)]
    daily = ScheduleSpec.build(cron="0 8 * * *", timezone="Asia/Kolkata")
    assert daily.next_tick(utc(2025, 6, 1)) == utc(2025, 6, 1, 2, 30)


def test_spring_forward_skipped_time_runs_once_at_the_first_valid_minute() -> None:
    spec = ScheduleSpec.build(cron="30 2 * * *", timezone=NEW_YORK)
    # 02:30 does not exist on 2025-03-09; 03:00 EDT is 07:00 UTC.
    assert ticks_on_local_day(spec, NEW_YORK, 2025, 3, 9) == [utc(2025, 3, 9, 7)]
    assert ticks_on_local_day(spec, NEW_YORK, 2025, 3, 8) == [utc(2025, 3, 8, 7, 30)]
    assert ticks_on_local_day(spec, NEW_YORK, 2025, 3, 10) == [utc(2025, 3, 10, 6, 30)]


def test_fall_back_day_runs_a_daily_time_once() -> None:
    after_the_change = ScheduleSpec.build(cron="30 2 * * *", timezone=NEW_YORK)
    assert ticks_on_local_day(after_the_change, NEW_YORK, 2025, 11, 2) == [utc(2025, 11, 2, 7, 30)]
    repeated = ScheduleSpec.build(cron="30 1 * * *", timezone=NEW_YORK)
    # 01:30 happens twice; only the first occurrence (EDT, 05:30 UTC) runs.
    assert ticks_on_local_day(repeated, NEW_YORK, 2025, 11, 2) == [utc(2025, 11, 2, 5, 30)]


def test_fall_back_from_inside_the_repeated_hour_does_not_go_back() -> None:
    spec = ScheduleSpec.build(cron="30 1 * * *", timezone=NEW_YORK)
    second_one_fifteen = local(NEW_YORK, 2025, 11, 2, 1, 15, fold=1)  # 06:15 UTC
    assert spec.next_tick(second_one_fifteen) == utc(2025, 11, 3, 6, 30)
    assert spec.latest_tick(second_one_fifteen) == utc(2025, 11, 2, 5, 30)


def test_sub_hourly_cron_follows_elapsed_time_across_dst() -> None:
    # Every 30 real minutes: no stall in the skipped hour, no burst in the repeated one.
    spec = ScheduleSpec.build(cron="*/30 * * * *", timezone=NEW_YORK)
    half_hour = timedelta(minutes=30)
    for start in (utc(2025, 3, 9, 6), utc(2025, 11, 2, 5)):
        ticks = list(spec.ticks_between(start, start + 4 * half_hour))
        assert ticks == [start + n * half_hour for n in range(1, 5)]


SPECS = [
    ScheduleSpec.build(cron="*/15 * * * *"),
    ScheduleSpec.build(cron="30 2 * * *", timezone=NEW_YORK),
    ScheduleSpec.build(cron="30 1 * * *", timezone=NEW_YORK),
    ScheduleSpec.build(cron="0 9 * * 1-5", timezone="Europe/London"),
    ScheduleSpec.build(cron="*/15 * * * *", timezone="Asia/Kolkata"),
    ScheduleSpec.build(cron="0 0 29 2 *"),
    ScheduleSpec.build(every="7m"),
    ScheduleSpec.build(every="100ms", min_every=MS_50),
]


@settings(max_examples=300, deadline=None)
@given(
    spec=st.sampled_from(SPECS),
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
)
def test_next_tick_is_the_only_tick_up_to_itself(spec: ScheduleSpec, moment: datetime) -> None:
    tick = spec.next_tick(moment)
    assert tick > moment
    assert list(spec.ticks_between(moment, tick)) == [tick]
    latest = spec.latest_tick(moment)
    assert latest is not None
    assert latest <= moment < spec.next_tick(latest)


# Descriptions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"cron": "*/15 * * * *"}, "Every 15 minutes"),
        ({"cron": "* * * * *"}, "Every minute"),
        ({"cron": "0 */2 * * *"}, "Every 2 hours"),
        ({"cron": "5 * * * *"}, "Hourly at :05"),
        ({"cron": "@hourly"}, "Every hour"),
        ({"cron": "0 8 * * *"}, "Daily at 8:00 AM"),
        ({"cron": "30 14 * * *"}, "Daily at 2:30 PM"),
        ({"cron": "0 12 * * *"}, "Daily at 12:00 PM"),
        ({"cron": "0 9 * * 1"}, "Every Monday at 9:00 AM"),
        ({"cron": "0 9 * * mon"}, "Every Monday at 9:00 AM"),
        ({"cron": "0 9 * * 1-5"}, "Weekdays at 9:00 AM"),
        ({"cron": "@weekly"}, "Every Sunday at 12:00 AM"),
        ({"cron": "@monthly"}, "Monthly on day 1 at 12:00 AM"),
        ({"cron": "@yearly"}, "Yearly on January 1 at 12:00 AM"),
        ({"cron": "0 8 * * *", "timezone": "Asia/Kolkata"}, "Daily at 8:00 AM (Asia/Kolkata)"),
        ({"cron": "0 9 * * 1,3"}, "Cron: 0 9 * * 1,3 (UTC)"),
        ({"cron": "0 9 1-7 * MON", "timezone": NEW_YORK}, f"Cron: 0 9 1-7 * MON ({NEW_YORK})"),
        ({"every": "2h"}, "Every 2 hours"),
        ({"every": "1h"}, "Every hour"),
        ({"every": "15m"}, "Every 15 minutes"),
        ({"every": 30}, "Every 30 seconds"),
        ({"every": "90s"}, "Every 90 seconds"),
        ({"every": "1d", "timezone": "Asia/Kolkata"}, "Every day"),
        ({"every": "100ms", "min_every": MS_50}, "Every 100 milliseconds"),
    ],
)
def test_describe(kwargs: dict[str, Any], expected: str) -> None:
    assert ScheduleSpec.build(**kwargs).describe() == expected


# Humanized times ------------------------------------------------------------------

NOW = utc(2025, 6, 1, 12)


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(0), "just now"),
        (timedelta(seconds=44), "just now"),
        (timedelta(seconds=-10), "just now"),
        (timedelta(seconds=45), "45 seconds ago"),
        (timedelta(seconds=60), "1 minute ago"),
        (timedelta(minutes=2, seconds=59), "2 minutes ago"),
        (timedelta(hours=1, minutes=59), "1 hour ago"),
        (timedelta(hours=3), "3 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=9), "9 days ago"),
        (timedelta(minutes=-5), "in 5 minutes"),
    ],
)
def test_humanize_ago(ago: timedelta, expected: str) -> None:
    assert humanize_ago(NOW - ago, NOW) == expected


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (timedelta(minutes=-5), "now"),
        (timedelta(seconds=44), "now"),
        (timedelta(seconds=45), "in 45 seconds"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(minutes=5), "in 5 minutes"),
        (timedelta(hours=2), "in 2 hours"),
        (timedelta(days=1, hours=3), "in 1 day"),
    ],
)
def test_humanize_until(until: timedelta, expected: str) -> None:
    assert humanize_until(NOW + until, NOW) == expected
