"""``jobdeck queues`` (list, pause, resume) and ``jobdeck workers`` (list, stop): the tables,
``--json``, the audit rows they write, and one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from jobdeck import JobDeck
from jobdeck.store.base import AuditFilter, WorkerInfo
from tests.cli.test_cli import assert_one_line_error, ok, run_cli


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    """Three jobs in "default", one in "mail", and a worker serving both."""
    deck = JobDeck(db_url)
    echo = deck.task(name="echo")(lambda value: value)
    try:
        echo.enqueue_many([{"value": n} for n in range(3)])
        echo.options(queue="mail").enqueue(value="m")
        now = deck.clock.now()
        deck.store.register_worker(
            WorkerInfo("host:1:abc", "host", 1, ("default", "mail"), 4, now, now)
        )
    finally:
        deck.close()
    yield db_url


def actions(db_url: str) -> list[tuple[str, str, dict[str, object]]]:
    deck = JobDeck(db_url)
    try:
        rows = deck.store.list_audit(AuditFilter(executions=False), 50)
        return [(r.action_type, r.target, r.details) for r in reversed(rows)]
    finally:
        deck.close()


def test_queues_lists_backlogs_as_json_and_a_table(url: str) -> None:
    document = json.loads(ok("queues", "--json", "--database", url))
    by_name = {q["queue"]: q for q in document["queues"]}
    assert by_name["default"]["pending"] == 3 and by_name["mail"]["pending"] == 1
    assert by_name["default"]["workers"] == ["host:1:abc"]
    assert by_name["default"]["paused"] is False and document["period"] == "24h"
    assert by_name["default"]["latency_seconds"] >= 0
    table = ok("queues", "--period", "1h", "--database", url)
    assert "default" in table and "mail" in table and "Latency" in table


def test_pause_and_resume_a_queue_are_audited_with_the_reason(url: str) -> None:
    paused = ok("queues", "pause", "mail", "--reason", "SMTP down", "--database", url)
    assert "mail: paused" in paused
    assert "already paused" in ok("queues", "pause", "mail", "--database", url)
    document = json.loads(ok("queues", "--json", "--database", url))
    mail = next(q for q in document["queues"] if q["queue"] == "mail")
    assert mail["paused"] is True and mail["pause_reason"] == "SMTP down"
    assert mail["paused_by"].startswith("cli:")
    assert "paused" in ok("queues", "--database", url)
    assert "mail: resumed" in ok("queues", "resume", "mail", "--database", url)
    assert "was not paused" in ok("queues", "resume", "mail", "--database", url)
    audited = actions(url)
    assert [(a, t) for a, t, _ in audited] == [
        ("pause_queue", "queue mail"),
        ("pause_queue", "queue mail"),
        ("resume_queue", "queue mail"),
        ("resume_queue", "queue mail"),
    ]
    assert audited[0][2]["reason"] == "SMTP down" and audited[0][2]["changed"] is True


def test_a_queue_nobody_named_yet_can_be_paused_and_is_listed(url: str) -> None:
    ok("queues", "pause", "reports", "--database", url)
    document = json.loads(ok("queues", "--json", "--database", url))
    assert {"queue": "reports", "paused": True, "pending": 0}.items() <= next(
        q for q in document["queues"] if q["queue"] == "reports"
    ).items()


def test_bad_queue_names_and_periods_are_one_line_errors(url: str) -> None:
    assert_one_line_error(run_cli("queues", "pause", "  ", "--database", url), "must not be empty")
    assert_one_line_error(run_cli("queues", "pause", "x" * 300, "--database", url), "at most")
    done = run_cli("queues", "--period", "2y", "--database", url)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_workers_stop_asks_the_worker_to_drain_and_is_audited(url: str) -> None:
    said = ok("workers", "stop", "host:1:abc", "--reason", "reboot", "--database", url)
    assert "asked to drain and stop" in said
    (worker,) = json.loads(ok("workers", "--json", "--database", url))
    assert worker["stop_requested_at"] is not None
    assert actions(url)[-1][:2] == ("stop_worker", "worker host:1:abc")
    assert "asked to stop" in ok("workers", "--database", url)


def test_stopping_an_unknown_worker_is_a_one_line_error_and_audited_as_refused(url: str) -> None:
    assert_one_line_error(
        run_cli("workers", "stop", "nobody:1:x", "--database", url), "no running worker"
    )
    assert actions(url)[-1][:2] == ("stop_worker_refused", "worker nobody:1:x")


def test_workers_lists_as_before(url: str) -> None:
    listed = ok("workers", "--database", url)
    assert "host:1:abc" in listed
