"""``jobdeck stats``: per-task attempts and wait and duration percentiles for a period, as a
table and as one JSON document, on both stores."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner

from jobdeck import JobDeck
from jobdeck.cli.views import milliseconds
from jobdeck.console import main
from jobdeck.latency import RELATIVE_ERROR
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimRequest, NewJob, Outcome


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    """Four ``resize`` attempts that each waited 2 s and ran 40 ms, one of them failed."""
    deck = JobDeck(db_url)
    store = deck.store
    try:
        now = store.clock.now()  # type: ignore[attr-defined]
        store.insert_jobs([NewJob("resize", run_at=now - timedelta(seconds=2)) for _ in range(4)])
        claimed = store.claim_jobs(ClaimRequest("w1", ["default"], 4, 30.0))
        store.complete_jobs(
            "w1",
            [
                Outcome(
                    job.id,
                    job.attempt,
                    job.task,
                    AttemptStatus.FAILED if index == 0 else AttemptStatus.SUCCEEDED,
                    JobState.FAILED if index == 0 else JobState.SUCCEEDED,
                    job.started_at,
                    job.started_at + timedelta(milliseconds=40),
                    wait_ms=job.wait_ms,
                )
                for index, job in enumerate(claimed)
            ],
            shard=1,
        )
        # The attempts end 40 ms after they started: let that moment pass, or a stats read
        # in the same minute's last 40 ms would see their minute as still to come.
        time.sleep(0.05)
    finally:
        deck.close()
    yield db_url


def jobdeck(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"JOBDECK_DATABASE_URL": None})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_stats_json_holds_each_tasks_percentiles(url: str) -> None:
    document = json.loads(jobdeck("stats", "--period", "1h", "--json", "--database", url))
    assert document["period"] == "1h" and document["latency_error"] == RELATIVE_ERROR
    (row,) = document["by_task"]
    assert (row["task"], row["succeeded"], row["failed"]) == ("resize", 3, 1)
    for kind, true_ms in (("wait", 2_000), ("duration", 40)):
        percentiles = row[kind]
        assert percentiles["count"] == 4
        for q in ("p50", "p95", "p99"):
            assert abs(percentiles[q] - true_ms) / true_ms <= RELATIVE_ERROR
    assert document["overall"] == {"wait": row["wait"], "duration": row["duration"]}


def test_stats_table_shows_the_task_and_all_tasks(url: str) -> None:
    text = jobdeck("stats", "--database", url)
    assert "resize" in text and "all tasks" in text and "wait p50" in text
    document = json.loads(jobdeck("stats", "--json", "--database", url))
    wait, duration = document["by_task"][0]["wait"], document["by_task"][0]["duration"]
    assert milliseconds(wait["p50"]) in text and milliseconds(duration["p99"]) in text


def test_an_unknown_period_is_one_line() -> None:
    result = CliRunner().invoke(main, ["stats", "--period", "2h", "--database", "sqlite:///x.db"])
    assert result.exit_code == 2 and "'2h' is not one of" in result.output
