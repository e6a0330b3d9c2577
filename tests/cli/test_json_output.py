"""``--json`` on the listing commands: one JSON document on stdout (ISO 8601 times, no markup),
the table's filters and pagination, errors still one line on stderr; and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jobdeck import JobDeck
from jobdeck.console import main
from jobdeck.store.base import WorkerInfo
from tests.worker.helpers import ROOT

APP = "tests.cli.log_app:deck"


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    """A database with jobs (one failed), a schedule, an alert, a user, a token and a worker."""
    deck = JobDeck(db_url)
    deck.task(name="echo")(lambda value: value)
    deck.periodic(name="nightly", cron="0 3 * * *")(lambda: None)
    store, now = deck.store, deck.clock.now()
    try:
        for value in range(3):
            deck.tasks["echo"].enqueue(value=value)
        store.sync_schedules([s.definition() for s in deck.schedules.values()], now)
        store.record_alert("exhausted", "job 1", "echo job 1 failed", '{"job_id": 1}', now)
        store.register_worker(WorkerInfo("host:1:abc", "host", 1, ("default",), 4, now, now))
    finally:
        deck.close()
    add = ("users", "add", "ops@example.com", "--role", "admin", "--password-stdin")
    jobdeck(*add, "--database", db_url, stdin="a long enough password\n")
    jobdeck("tokens", "create", "ci", "--role", "admin", "--database", db_url)
    yield db_url


def jobdeck(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin, env={"JOBDECK_DATABASE_URL": None})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def document(*args: str) -> Any:
    """The command's stdout, which must be exactly one JSON document."""
    return json.loads(jobdeck(*args, "--json"))


def _is_iso(text: str) -> bool:
    return datetime.fromisoformat(text).tzinfo is not None


def test_jobs_list_pages_and_filters_as_the_table(url: str) -> None:
    first = document("jobs", "list", "--limit", "2", "--database", url)
    assert [job["args"]["value"] for job in first["jobs"]] == [2, 1]
    assert first["jobs"][0]["state"] == "available" and _is_iso(first["jobs"][0]["enqueued_at"])
    rest = document("jobs", "list", "--before", str(first["next_before"]), "--database", url)
    assert [job["args"]["value"] for job in rest["jobs"]] == [0] and rest["next_before"] is None
    assert document("jobs", "list", "--task", "nothing", "--database", url)["jobs"] == []
    assert len(document("jobs", "list", "--status", "pending", "--database", url)["jobs"]) == 3


def test_jobs_show_has_the_job_and_its_attempts(url: str) -> None:
    job_id = document("jobs", "list", "--database", url)["jobs"][0]["id"]
    shown = document("jobs", "show", str(job_id), "--database", url)
    assert shown["id"] == job_id and shown["task"] == "echo" and shown["attempts"] == []


def test_schedules_list_and_show(url: str) -> None:
    listed = document("schedules", "list", "--database", url)
    assert [s["name"] for s in listed] == ["nightly"]
    assert _is_iso(listed[0]["next_run_at"])
    shown = document("schedules", "show", "nightly", "--database", url)
    assert shown["name"] == "nightly" and shown["runs"] == []


def test_alerts_workers_users_and_tokens(url: str) -> None:
    [alert] = document("alerts", "--database", url)
    assert (alert["kind"], alert["details"]) == ("exhausted", {"job_id": 1})
    [worker] = document("workers", "--database", url)
    assert (worker["id"], worker["queues"], worker["concurrency"]) == ("host:1:abc", ["default"], 4)
    assert _is_iso(worker["last_heartbeat"])
    [user] = document("users", "list", "--database", url)
    assert user["email"] == "ops@example.com" and "password_hash" not in user
    [token] = document("tokens", "list", "--database", url)
    assert token["name"] == "ci" and token["revoked_at"] is None and _is_iso(token["created_at"])


def test_documents_list(db_url: str, tmp_path: Path) -> None:
    paper = tmp_path / "brief.txt"
    paper.write_text("appeals court brief")
    storage = ("--storage", str(tmp_path / "store"), "--database", db_url)
    jobdeck("documents", "add", "expert-1", str(paper), *storage)
    [record] = document("documents", "list", *storage)
    assert (record["owner_id"], record["filename"]) == ("expert-1", "brief.txt")
    assert _is_iso(record["uploaded_at"])
    assert document("documents", "list", "--owner", "nobody", *storage) == []


def test_an_error_is_still_one_line_on_stderr(url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JOBDECK_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "jobdeck", "jobs", "show", "999", "--json", "--database", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")


def test_no_rich_markup_reaches_the_json() -> None:
    from jobdeck.cli.views import print_json

    runner = CliRunner()
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    @main.command("_probe", hidden=True)
    def probe() -> None:
        print_json({"at": moment, "wait": timedelta(minutes=2), "text": "[bold]x[/bold]"})

    try:
        out = runner.invoke(main, ["_probe"]).stdout
    finally:
        main.commands.pop("_probe")
    assert json.loads(out) == {
        "at": "2026-01-02T03:04:05+00:00",
        "wait": 120.0,
        "text": "[bold]x[/bold]",
    }


def _console_script(**env: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("jobdeck")  # click names the variable after it
    if not script.exists():
        pytest.skip("the jobdeck console script is not installed in this environment")
    return subprocess.run(
        [str(script)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_prints_a_script(shell: str) -> None:
    done = _console_script(_JOBDECK_COMPLETE=f"{shell}_source")
    assert done.returncode == 0, done.stderr
    assert "_JOBDECK_COMPLETE" in done.stdout and "jobdeck" in done.stdout


def test_shell_completion_completes_commands() -> None:
    done = _console_script(
        _JOBDECK_COMPLETE="bash_complete", COMP_WORDS="jobdeck jobs l", COMP_CWORD="2"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["plain,list"]
