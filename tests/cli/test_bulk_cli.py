"""``jobdeck jobs search``, ``jobs counts``, and ``jobs retry|cancel|delete --all`` with the
task list's filters: the count asked first, progress on stderr, one audit row, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from jobdeck import JobDeck
from jobdeck.console import main
from jobdeck.store.base import AuditFilter
from tests.cli.test_cli import assert_one_line_error, ok, run_cli
from tests.store.test_search_and_bulk import failed_jobs


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    """Three failed "import" jobs, one failed "mail" job, two pending "import" jobs."""
    deck = JobDeck(db_url)
    try:
        deck.migrate()
        failed_jobs(deck.store, "import", 3, error="KeyError: 'sku-991'")
        failed_jobs(deck.store, "mail", 1)
        task = deck.task(name="import")(lambda user_id: None)
        task.enqueue(user_id=42)
        task.enqueue(user_id=43)
    finally:
        deck.close()
    yield db_url


def states(db_url: str) -> dict[str, int]:
    deck = JobDeck(db_url)
    try:
        return {str(k): v for k, v in deck.store.count_by_state().items()}
    finally:
        deck.close()


def test_search_finds_by_error_text_and_argument_path(url: str) -> None:
    found = json.loads(ok("jobs", "search", "sku-991", "--json", "--database", url))
    assert len(found["jobs"]) == 3 and {j["task"] for j in found["jobs"]} == {"import"}
    by_arg = json.loads(ok("jobs", "search", "args.user_id:43", "--json", "--database", url))
    assert [j["args"] for j in by_arg["jobs"]] == [{"user_id": 43}]
    table = ok("jobs", "search", "args.user_id:42", "--database", url)
    assert "import" in table


def test_counts_by_status(url: str) -> None:
    counts = json.loads(ok("jobs", "counts", "--json", "--database", url))
    assert counts["failed"] == {"count": 4, "more": False}
    assert counts["pending"]["count"] == 2
    assert "failed" in ok("jobs", "counts", "--task", "mail", "--database", url)


def test_retry_all_asks_with_the_count_then_retries_in_batches_and_audits_once(url: str) -> None:
    runner = CliRunner()
    args = ["jobs", "retry", "--all", "--status", "failed", "--task", "import"]
    declined = runner.invoke(main, [*args, "--database", url], input="n\n")
    assert "Retry 3 jobs?" in declined.output and declined.exit_code == 1
    assert states(url)["failed"] == 4
    done = runner.invoke(main, [*args, "--reason", "sku fixed", "--database", url], input="y\n")
    assert done.exit_code == 0, done.output
    assert "retried 3 of 3" in done.output and "retried 3 jobs" in done.output
    assert states(url) == {"available": 5, "failed": 1}
    deck = JobDeck(url)
    try:
        (row,) = [
            r
            for r in deck.store.list_audit(AuditFilter(executions=False), 10)
            if r.action_type == "bulk_retry"
        ]
    finally:
        deck.close()
    assert row.details["count"] == 3 and row.details["reason"] == "sku fixed"
    assert row.details["filter"] == {"task_text": "import", "status": "failed"}


def test_cancel_all_and_delete_one_without_asking(url: str) -> None:
    assert "cancelled 2 jobs" in ok("jobs", "cancel", "--all", "--yes", "--database", url)
    assert "deleted 4 jobs" in ok(
        "jobs", "delete", "--all", "-y", "--status", "failed", "--database", url
    )
    assert states(url) == {"cancelled": 2}
    assert "no jobs to retry" in ok(
        "jobs", "retry", "--all", "--status", "failed", "--database", url
    )


def test_bad_bulk_commands_fail_in_one_line(url: str) -> None:
    assert_one_line_error(run_cli("jobs", "retry", "--database", url), "JOB_ID, or --all")
    assert_one_line_error(
        run_cli("jobs", "cancel", "--status", "failed", "--database", url), "need --all"
    )
    assert_one_line_error(
        run_cli("jobs", "search", "args.a/b:1", "--database", url), "names joined by dots"
    )
