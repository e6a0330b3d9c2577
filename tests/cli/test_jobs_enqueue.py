"""``jobdeck jobs enqueue``: the New job form's command, on both stores: arguments checked
against the task's signature with --app (by name only without it), delay, priority, labels,
an audit row with the reason, and one-line errors for what a person mistypes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from jobdeck.states import JobState, Trigger
from jobdeck.store import open_store
from jobdeck.store.base import AuditFilter
from tests.cli.test_cli import APP, assert_one_line_error, enqueued_id, ok, run_cli
from tests.cli.test_cli import fresh_app_deck as fresh_app_deck  # autouse: a store per test
from tests.worker.helpers import count_in


def test_enqueue_with_options_is_audited(db_url: str) -> None:
    out = ok(
        "jobs", "enqueue", "boom", "--args", '{"message": "hi"}', "--delay", "15m",
        "--priority", "4", "--label", "ticket=OPS-1", "--label", "via=cli",
        "--reason", "rerun for support", "--app", APP, "--database", db_url,
    )  # fmt: skip
    job_id = enqueued_id(out)
    store = open_store(db_url)
    try:
        job = store.get_job(job_id)
        assert job is not None
        assert (job.task, job.args, job.priority) == ("boom", {"message": "hi"}, 4)
        assert job.labels == {"ticket": "OPS-1", "via": "cli"}
        assert (job.state, job.trigger) == (JobState.SCHEDULED, Trigger.MANUAL)
        waited = (job.run_at - job.enqueued_at).total_seconds()
        assert waited == pytest.approx(timedelta(minutes=15).total_seconds(), abs=5)
        [row] = store.list_audit(AuditFilter(action_type="enqueue"), 10)
        assert row.actor.startswith("cli:") and row.target == "task boom"
        assert row.details["job_id"] == job_id and row.details["reason"] == "rerun for support"
        assert row.details["via"] == "cli" and job.triggered_by == row.actor
    finally:
        store.close()


def test_without_app_the_task_is_known_by_name_only(db_url: str) -> None:
    job_id = enqueued_id(
        ok("jobs", "enqueue", "billing.send", "--args", '{"n": 1}', "--database", db_url)
    )
    store = open_store(db_url)
    try:
        job = store.get_job(job_id)
        assert job is not None and (job.task, job.args) == ("billing.send", {"n": 1})
    finally:
        store.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--args", '{"message": 3}'), "error: message: expected text, got '3'"),
        (("--args", '{"mesage": "x"}'), "got an unexpected keyword argument 'mesage'"),
        (("--args", "[1]"), "--args must be a JSON object"),
        (("--label", "nokey"), "--label 'nokey': expected key=value"),
        (("--delay", "soon"), "invalid duration 'soon'"),
        (("--delay", "800d"), "delay: must be between 0 and 31622400 seconds"),
        (("--reason", "x" * 501), "reason: 501 characters long; at most 500"),
    ],
)
def test_mistakes_are_one_line_errors_and_enqueue_nothing(
    tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    ok("db", "migrate", "--database", url)
    done = run_cli("jobs", "enqueue", "boom", *options, "--app", APP, "--database", url)
    assert_one_line_error(done, message)
    store = open_store(url)
    try:
        assert count_in(store) == 0
    finally:
        store.close()


def test_after_makes_the_job_wait_and_an_unknown_parent_is_one_line(db_url: str) -> None:
    first = enqueued_id(
        ok("jobs", "enqueue", "echo", "--app", APP, "--database", db_url, "--args", '{"value": 1}')
    )
    second = enqueued_id(
        ok("jobs", "enqueue", "echo", "--app", APP, "--database", db_url, "--args", '{"value": 2}')
    )
    after = ("--after", str(first), "--after", str(second))
    child = enqueued_id(
        ok(
            "jobs",
            "enqueue",
            "echo",
            "--args",
            '{"value": 3}',
            *after,
            "--app",
            APP,
            "--database",
            db_url,
        )
    )
    store = open_store(db_url)
    try:
        job = store.get_job(child)
        assert job is not None and job.state == JobState.WAITING
        assert [link.job_id for link in store.get_job_links(child)] == [first, second]
        [row] = [
            r
            for r in store.list_audit(AuditFilter(action_type="enqueue"), 10)
            if r.details["job_id"] == child
        ]
        assert row.details["after"] == [first, second]
    finally:
        store.close()
    refused = run_cli(
        "jobs", "enqueue", "echo", "--args", '{"value": 4}', "--after", "987654",
        "--app", APP, "--database", db_url,
    )  # fmt: skip
    assert_one_line_error(refused, "#987654", "nothing was enqueued")
    store = open_store(db_url)
    try:
        assert count_in(store) == 3
    finally:
        store.close()
