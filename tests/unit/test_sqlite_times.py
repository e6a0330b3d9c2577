"""SQLite keeps times as text: the text must sort as the times do, in every year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from jobdeck.store.sqlite import from_db, to_db


def test_times_sort_as_text_in_every_year() -> None:
    moments = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    texts = [to_db(m) for m in moments]
    assert texts == sorted(texts)  # type: ignore[type-var]
    assert texts[0] == "0001-01-01 00:00:00.000000"


def test_a_time_round_trips_in_utc() -> None:
    local = datetime(
        2026, 12, 3, 13, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    assert to_db(local) == "2026-12-03 08:00:00.123456"
    assert from_db(to_db(local)) == local
