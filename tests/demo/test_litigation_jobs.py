"""The demo's scheduled jobs do what the guide's verification queries expect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobdeck.demo import app, data, litigation


@pytest.fixture
def demo_db(db_url: str) -> Iterator[None]:
    app.deck.use_database(db_url)
    app.db.cache_clear()
    try:
        app.deck.migrate()
        app.db().create_tables()
        data.seed(app.db(), app.deck.clock.now())
        yield
    finally:
        app.db.cache_clear()
        app.deck.close()


def test_a_snapshot_rerun_the_same_day_replaces_that_days_rows(demo_db: None) -> None:
    first = litigation.capture_analytics_snapshot()
    again = litigation.capture_analytics_snapshot()  # Run Now, or a retry
    assert first["metrics_written"] == again["metrics_written"] > 0
    rows = app.db().rows(
        "SELECT tenant_id, snapshot_date, metric_type, COUNT(*) AS n FROM analytics_snapshots "
        "GROUP BY tenant_id, snapshot_date, metric_type"
    )
    assert len(rows) == first["metrics_written"]
    assert {row["n"] for row in rows} == {1}  # the guide's verification query: no duplicates
