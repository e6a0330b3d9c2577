"""The guide's SQL on the demo's tables (issue 16, item 14): on PostgreSQL each query runs as
the guide prints it, character for character; on SQLite its SQLite form gives the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from jobdeck.demo import app, data
from jobdeck.demo.db import DemoDB
from jobdeck.demo.guide_sql import AUDIT, BY_KEY, HEARINGS_POSTGRES, QUERIES, SNAPSHOTS, run_query
from jobdeck.worker.scheduler import Scheduler
from tests.browser.demo_harness import run_and_wait
from tests.browser.harness import RunningWorker

VIKRAM = 2  # Vikram Shah has an email but no phone


@pytest.fixture
def demo_db(db_url: str) -> Iterator[DemoDB]:
    """The demo's data as `jobdeck demo` seeds it, and two of its jobs run by a real worker."""
    app.deck.use_database(db_url)
    app.db.cache_clear()
    try:
        app.deck.migrate()
        app.db().create_tables()
        data.seed(app.db(), app.deck.clock.now())
        data.seed_history(app.db(), app.deck.clock.now())
        # The case of the hearing in 6 hours belongs to someone without a phone.
        app.db().execute("UPDATE cases SET owner_id = :p WHERE id = 1", {"p": VIKRAM})
        Scheduler(app.deck).sync()
        worker = RunningWorker(app.deck, scheduler_enabled=False).start()
        try:
            for name in ("check-sla-and-overdue", "capture-analytics-snapshot"):
                run_and_wait(name)
        finally:
            worker.stop()
        yield app.db()
    finally:
        app.db.cache_clear()
        app.deck.close()


def verbatim(db: DemoDB, sql: str) -> list[tuple[object, ...]]:
    """The text as a person pastes it into psql: no parameters, no rewriting."""
    with db.transaction() as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_guides_three_queries_run_as_written_on_postgresql(demo_db: DemoDB) -> None:
    for query in ("audit", "hearings", "snapshots"):
        assert BY_KEY[query].verbatim and BY_KEY[query].text("postgres") == BY_KEY[query].postgres

    executions = verbatim(demo_db, AUDIT)
    jobs = {row[2] for row in executions}
    assert {"check-sla-and-overdue", "capture-analytics-snapshot"} <= jobs
    assert all(row[1] == "background_job_execution" and row[3] == "success" for row in executions)
    assert all(int(str(row[4])) >= 0 for row in executions)  # execution_time_ms

    hearings = verbatim(demo_db, HEARINGS_POSTGRES)
    assert ("GST/2025/0001", "Vikram Shah", None) in {(r[2], r[3], r[4]) for r in hearings}

    assert verbatim(demo_db, SNAPSHOTS) == []  # 'your-tenant-id' is the reader's to replace
    acme = verbatim(demo_db, SNAPSHOTS.replace("your-tenant-id", "acme-legal"))
    today = app.deck.clock.now().date().isoformat()
    assert len(acme) == 7
    assert [row[0] for row in acme[:3]] == [today] * 3
    assert acme[3][0] == (app.deck.clock.now().date() - timedelta(days=1)).isoformat()


def test_every_query_runs_in_the_databases_own_dialect(demo_db: DemoDB) -> None:
    """What Advanced Tools runs: the PostgreSQL text there, the SQLite form on SQLite."""
    answers = {q.key: run_query(demo_db, q, tenant="acme-legal") for q in QUERIES}
    for key, result in answers.items():
        assert result.sql == BY_KEY[key].text(demo_db.dialect)
    assert {row[2] for row in answers["audit"].rows} >= {"check-sla-and-overdue"}
    assert ["GST/2025/0001", "Vikram Shah", None] in [r[2:5] for r in answers["hearings"].rows]
    assert ["GST/2025/0001", "Rohit Gupta"] in [r[2:4] for r in answers["unreachable"].rows]
    assert len(answers["snapshots"].rows) == 7
    assert answers["snapshots"].columns == ["snapshot_date", "metric_type", "metric_value"]
    assert len(answers["schedules"].rows) == len(app.deck.schedules)
    assert answers["automation"].rows  # the SLA check escalated the long-overdue tasks
    assert answers["notifications"].columns[:2] == ["timestamp", "actor"]
