"""``jobdeck errors`` on both stores: the groups as a table and as --json, one group, retry
(with its confirmation) and mute, audited as the CLI's actor; bad fingerprints in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from jobdeck import JobDeck
from jobdeck.console import main
from jobdeck.states import JobState
from jobdeck.store.base import AuditFilter
from tests.cli.test_cli import assert_one_line_error, run_cli
from tests.web.test_failures import fail, group_of


@pytest.fixture
def failed(db_url: str) -> Iterator[tuple[JobDeck, list[int]]]:
    deck = JobDeck(db_url)
    try:
        ids = fail(deck, "charge", "KeyError: customer 12", "KeyError: customer 99")
        fail(deck, "mail", "OSError: connection refused")
        yield deck, ids
    finally:
        deck.close()


def run(db_url: str, *args: str, stdin: str | None = None, code: int = 0) -> Result:
    result = CliRunner().invoke(
        main, [*args, "--database", db_url], input=stdin, env={"JOBDECK_DATABASE_URL": None}
    )
    assert result.exit_code == code, (result.output, result.exception)
    return result


def test_errors_lists_the_groups_as_a_table_and_as_json(
    failed: tuple[JobDeck, list[int]], db_url: str
) -> None:
    deck, ids = failed
    group = group_of(deck, ids[0])
    table = run(db_url, "errors", "list").stdout
    assert group in table and "KeyError: customer <n>" in table
    assert "app/billing.py in charge" in table.replace("\n", "")
    document = json.loads(run(db_url, "errors", "list", "--json", "--period", "1h").stdout)
    assert document["period"] == "1h" and document["bucket_seconds"] == 60
    first = document["groups"][0]
    assert (first["fingerprint"], first["failures"], first["tasks"]) == (group, 2, 1)
    assert first["muted"] is False and sum(first["sparkline"]) == 2
    shown = json.loads(run(db_url, "errors", "show", group, "--json").stdout)
    assert shown["sample_error"] == "KeyError: customer 12"
    assert "sample traceback" in run(db_url, "errors", "show", group).stdout


def test_errors_retry_confirms_then_retries_and_audits(
    failed: tuple[JobDeck, list[int]], db_url: str
) -> None:
    deck, ids = failed
    group = group_of(deck, ids[0])
    declined = run(db_url, "errors", "retry", group, stdin="n\n", code=1)
    assert "Retry 2 jobs?" in declined.output
    assert deck.store.get_job(ids[0]).state == JobState.FAILED  # type: ignore[union-attr]
    done = run(db_url, "errors", "retry", group, "--reason", "deploy fixed it", stdin="y\n")
    assert f"error group {group}: 2 jobs retried" in done.stdout
    assert {deck.store.get_job(i).state for i in ids} == {JobState.AVAILABLE}  # type: ignore[union-attr]
    [row] = deck.store.list_audit(AuditFilter(action_type="retry_error_group"), 5)
    assert row.actor.startswith("cli:") and row.details["jobs"] == 2
    assert row.details["reason"] == "deploy fixed it"
    again = run(db_url, "errors", "retry", group, "--yes")
    assert "no failed or retrying job to retry" in again.stdout


def test_errors_mute_hides_a_group_until_unmuted(
    failed: tuple[JobDeck, list[int]], db_url: str
) -> None:
    deck, ids = failed
    group = group_of(deck, ids[0])
    assert f"error group {group}: muted" in run(db_url, "errors", "mute", group).stdout
    listed = json.loads(run(db_url, "errors", "list", "--json").stdout)["groups"]
    assert group not in {g["fingerprint"] for g in listed}
    with_muted = json.loads(run(db_url, "errors", "list", "--json", "--muted").stdout)["groups"]
    assert next(g["muted_by"] for g in with_muted if g["fingerprint"] == group).startswith("cli:")
    run(db_url, "errors", "unmute", group)
    assert group in run(db_url, "errors").stdout  # bare `jobdeck errors` lists too


def test_an_unknown_or_malformed_fingerprint_is_one_line(
    failed: tuple[JobDeck, list[int]], db_url: str
) -> None:
    for fingerprint in ("ffffffffffffffff", "not-a-fingerprint"):
        done = run_cli("errors", "mute", fingerprint, "--database", db_url)
        assert_one_line_error(done, "no error group", "16 hex digits")
    misplaced = run_cli("errors", "--database", db_url, "mute", "ffffffffffffffff")
    assert misplaced.returncode == 2 and "give them after the subcommand" in misplaced.stderr
