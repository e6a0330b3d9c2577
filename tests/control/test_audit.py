"""Operations audit themselves: done, refused or failed, whoever calls them (code, web, CLI)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from jobdeck import JobDeck
from jobdeck.accounts import Actor
from jobdeck.console import main
from jobdeck.control import audited, cancel_job, retry_job, run_now, set_paused
from jobdeck.errors import InvalidTransition, JobNotFound, UnknownSchedule
from jobdeck.store.base import AuditFilter, AuditRow

ALICE = Actor("alice@example.com", "admin", "10.0.0.7", via="api")


@pytest.fixture
def deck(db_url: str) -> Iterator[JobDeck]:
    deck = JobDeck(db_url)
    deck.task(name="send_email")(lambda to: None)
    deck.periodic(name="sla", every="15m")(lambda: None)
    yield deck
    deck.close()


def operator_rows(deck: JobDeck) -> list[AuditRow]:
    return deck.store.list_audit(AuditFilter(executions=False), 100)


def test_a_done_action_records_who_how_and_why(deck: JobDeck) -> None:
    job = deck.get_task("send_email").enqueue(to="a@example.com")
    cancel_job(deck.store, deck.clock, job.id, ALICE, reason="customer asked")
    (row,) = operator_rows(deck)
    assert (row.actor, row.role, row.ip) == ("alice@example.com", "admin", "10.0.0.7")
    assert (row.action_type, row.target) == ("cancel", f"job {job.id}")
    assert row.details == {
        "task": "send_email",
        "state": "cancelled",  # a running job's cancel says "running": its worker stops it
        "via": "api",
        "reason": "customer asked",
    }


def test_a_refused_action_is_audited_and_still_raises(deck: JobDeck) -> None:
    job = deck.get_task("send_email").enqueue(to="a@example.com")
    with pytest.raises(InvalidTransition):
        retry_job(deck.store, deck.clock, job.id, ALICE)
    with pytest.raises(JobNotFound):
        cancel_job(deck.store, deck.clock, 999_999, ALICE)
    with pytest.raises(UnknownSchedule):
        set_paused(deck, "nope", True, ALICE, reason="  ")
    rows = {row.action_type: row for row in operator_rows(deck)}
    assert set(rows) == {"retry_refused", "cancel_refused", "pause_refused"}
    assert "only failed, retrying or cancelled jobs" in rows["retry_refused"].details["error"]
    assert rows["cancel_refused"].target == "job 999999"
    assert rows["pause_refused"].details == {
        "via": "api",
        "error": rows["pause_refused"].details["error"],  # a blank reason is no reason
    }


def test_a_failed_action_is_audited_with_its_error(deck: JobDeck) -> None:
    def broken() -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        audited(deck.store, deck.clock, ALICE, "retry", "job 1", broken)
    (row,) = operator_rows(deck)
    assert row.action_type == "retry_failed"
    assert row.details["error"] == "RuntimeError: disk on fire"


def test_run_now_from_code_is_audited(deck: JobDeck) -> None:
    job, _ = deck.run_now("sla", by="cron-fixer")
    (row,) = operator_rows(deck)
    assert (row.actor, row.action_type, row.target) == ("cron-fixer", "run_now", "schedule sla")
    assert row.details == {"job_id": job.id, "created": True, "via": "code"}
    run_now(deck, "sla", ALICE)  # the same run, not a second one: still audited
    assert [r.details["created"] for r in operator_rows(deck)] == [False, True]


def test_cli_operations_are_audited_as_the_os_user(deck: JobDeck, db_url: str) -> None:
    deck.migrate()
    deck.store.sync_schedules([deck.schedules["sla"].definition()], deck.clock.now())
    job = deck.get_task("send_email").enqueue(to="a@example.com")

    def cli(*args: str) -> None:
        result = CliRunner().invoke(main, [*args, "--database", db_url])
        assert result.exit_code in (0, 1), (result.output, result.exception)

    cli("jobs", "cancel", str(job.id), "--reason", "duplicate send")
    cli("jobs", "cancel", str(job.id))  # refused: it is cancelled already
    cli("schedules", "pause", "sla", "--reason", "maintenance window")
    cli("schedules", "resume", "sla")
    cli("schedules", "run", "sla")
    rows = list(reversed(operator_rows(deck)))
    assert [r.action_type for r in rows] == [
        "cancel",
        "cancel_refused",
        "pause",
        "resume",
        "run_now",
    ]
    assert all(r.actor.startswith("cli:") and "@" in r.actor for r in rows)
    assert all(r.details["via"] == "cli" for r in rows)
    assert rows[0].details["reason"] == "duplicate send"
    assert rows[2].details["reason"] == "maintenance window"
