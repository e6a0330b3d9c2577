"""The ``jobdeck`` command: migrate, enqueue, list, show, retry, cancel, help, and one-line errors
for the mistakes users make (bad JSON, wrong database URL, unmigrated database)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from jobdeck.console import main
from jobdeck.errors import InvalidTransition
from jobdeck.states import JobState
from jobdeck.store import open_store
from tests.conftest import DIALECTS
from tests.worker import apps
from tests.worker.helpers import FAST, ROOT, blank_database, count_in, running_worker

APP = "tests.worker.apps:deck"


@pytest.fixture(autouse=True)
def fresh_app_deck() -> Iterator[None]:
    """``--app tests.worker.apps:deck`` is one module-level deck: each test opens its own store."""
    url = apps.deck.database_url
    apps.deck.close()
    yield
    apps.deck.close()
    apps.deck.database_url = url


@pytest.fixture(params=DIALECTS)
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        request.getfixturevalue("pg_template")  # skips (or fails under CI) without PostgreSQL
    with blank_database(request.param, tmp_path) as url:
        yield url


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run a command in-process; the database and app options go last, as users often type."""
    result = CliRunner().invoke(main, list(args), env={"JOBDECK_DATABASE_URL": None, **(env or {})})
    return result


def ok(*args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run ``python -m jobdeck.cli`` for real: the error handling lives in its entry point."""
    env = {k: v for k, v in os.environ.items() if k != "JOBDECK_DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "jobdeck", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def enqueued_id(output: str) -> int:
    found = re.search(r"enqueued: job (\d+)", output)
    assert found, output
    return int(found.group(1))


# -- db ------------------------------------------------------------------------------------------


def test_db_migrate_is_idempotent(blank_db_url: str) -> None:
    first = ok("db", "migrate", "--database", blank_db_url)
    assert "applied 0001_" in first
    assert "schema is up to date" in ok("db", "migrate", "--database", blank_db_url)
    assert "pending: none" in ok("db", "status", "--database", blank_db_url)
    store = open_store(blank_db_url)
    try:
        store.check_schema()
    finally:
        store.close()


def test_a_worker_on_an_unmigrated_database_says_to_migrate(blank_db_url: str) -> None:
    done = run_cli("worker", "--app", APP, "--database", blank_db_url)
    assert_one_line_error(done, "jobdeck db migrate")


# -- enqueue and list ----------------------------------------------------------------------------


def enqueue(db_url: str, task: str, args: str, *options: str) -> str:
    return ok("enqueue", task, "--args", args, *options, "--database", db_url)


def test_enqueue_then_list(db_url: str) -> None:
    first = enqueued_id(enqueue(db_url, "echo", '{"value": 3}', "--app", APP))
    # Without --app the CLI cannot know the task: it enqueues by name, the worker checks it.
    second = enqueued_id(enqueue(db_url, "billing.send_invoice", "{}"))
    third = enqueued_id(enqueue(db_url, "echo", '{"value": 4}', "--unique-key", "k1", "--app", APP))
    repeat = enqueue(db_url, "echo", '{"value": 5}', "--unique-key", "k1", "--app", APP)
    assert f"already queued (same unique key): job {third}" in repeat

    listing = ok("jobs", "list", "--database", db_url)
    for job_id in (first, second, third):
        assert re.search(rf"^\s*{job_id}\s", listing, re.MULTILINE), listing
    assert "billing.send_invoice" in listing and "Pending" in listing
    by_task = ok("jobs", "list", "--task", "ECH", "--database", db_url)
    assert "echo" in by_task and "billing" not in by_task
    assert "no jobs match" in ok("jobs", "list", "--state", "success", "--database", db_url)
    assert "echo" in ok("jobs", "list", "--state", "pending", "--database", db_url)

    store = open_store(db_url)
    try:
        job = store.get_job(first)
        assert job is not None and job.args == {"value": 3}
        assert job.trigger == "manual" and (job.triggered_by or "").startswith("cli:")
        assert count_in(store) == 3
    finally:
        store.close()


def test_the_database_comes_from_the_environment_unless_given(db_url: str, tmp_path: Path) -> None:
    job_id = enqueued_id(cli("enqueue", "t.one", env={"JOBDECK_DATABASE_URL": db_url}).output)
    assert re.search(
        rf"^\s*{job_id}\s",
        cli("jobs", "list", env={"JOBDECK_DATABASE_URL": db_url}).output,
        re.MULTILINE,
    )
    # --database wins over the environment.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    ok("db", "migrate", "--database", other)
    listing = cli("jobs", "list", "--database", other, env={"JOBDECK_DATABASE_URL": db_url})
    assert listing.exit_code == 0 and "no jobs match" in listing.output


def test_database_wins_over_an_app_whose_store_is_already_open(db_url: str, tmp_path: Path) -> None:
    # An app may touch its deck at import (migrate, enqueue a warm-up job): --database must
    # still decide which database the command works on.
    app_own = f"sqlite:///{tmp_path / 'app-own.db'}"
    apps.deck.database_url = app_own
    apps.deck.migrate()
    job_id = enqueued_id(enqueue(db_url, "echo", '{"value": 1}'))
    listing = ok("jobs", "list", "--app", APP, "--database", db_url)
    assert re.search(rf"^\s*{job_id}\s", listing, re.MULTILINE), listing


# -- show, retry, cancel -------------------------------------------------------------------------


def test_show_retry_and_cancel_a_failed_job(db_url: str) -> None:
    deck = apps.make_deck(db_url, **FAST)
    try:
        failed = deck.get_task("boom").options(max_attempts=1).enqueue(message="kaboom")
        with running_worker(deck) as worker:
            failed.wait(10)
        assert failed.state == JobState.FAILED
    finally:
        deck.close()

    shown = ok("jobs", "show", str(failed.id), "--database", db_url)
    assert f"job {failed.id}" in shown
    assert "Failed" in shown and "boom" in shown
    assert "Attempts" in shown and worker.id in shown
    assert "ValueError: kaboom" in shown
    assert "Traceback (most recent call last)" in shown
    assert "_explode" in shown and "traceback, attempt 1" in shown

    retried = ok("jobs", "retry", str(failed.id), "--database", db_url)
    assert f"job {failed.id} (boom) is available again" in retried
    cancelled = ok("jobs", "cancel", str(failed.id), "--database", db_url)
    assert f"job {failed.id} (boom) cancelled" in cancelled
    store = open_store(db_url)
    try:
        job = store.get_job(failed.id)
        assert job is not None and job.state == JobState.CANCELLED
    finally:
        store.close()
    # Cancelling twice is an operator mistake: a clear error, not a traceback.
    again = cli("jobs", "cancel", str(failed.id), "--database", db_url)
    assert again.exit_code == 1 and isinstance(again.exception, InvalidTransition)
    done = run_cli("jobs", "cancel", str(failed.id), "--database", db_url)
    assert_one_line_error(done, f"job {failed.id} is cancelled")
    assert_one_line_error(
        run_cli("jobs", "show", "999999", "--database", db_url), "job 999999 does not exist"
    )


# -- errors users make ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("{bad json", "--args is not valid JSON"),
        ("[1, 2]", "--args must be a JSON object"),
        ('{"value": 1, "valu": 2}', "echo: got an unexpected keyword argument 'valu'"),
    ],
)
def test_bad_args_are_one_line_errors_and_enqueue_nothing(
    tmp_path: Path, args: str, message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    ok("db", "migrate", "--database", url)
    done = run_cli("enqueue", "echo", "--args", args, "--app", APP, "--database", url)
    assert_one_line_error(done, message)
    store = open_store(url)
    try:
        assert count_in(store) == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://127.0.0.1:1/x", "127.0.0.1"),
        ("sqlite:////nonexistent/dir/x.db", "/nonexistent/dir"),
        ("mysql://localhost/x", "unsupported database URL"),
    ],
)
@pytest.mark.parametrize("command", [("jobs", "list"), ("db", "migrate"), ("worker", "--app", APP)])
def test_a_wrong_database_url_is_a_one_line_error(
    url: str, fragment: str, command: tuple[str, ...]
) -> None:
    done = run_cli(*command, "--database", url, timeout=20)
    assert_one_line_error(done, fragment)


# -- help ----------------------------------------------------------------------------------------


def _subcommand(group: click.Group, name: str) -> click.Command:
    """Through click's own lookup: the root group loads most commands' modules on use."""
    command = group.get_command(click.Context(group), name)
    assert command is not None, name
    return command


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name in group.list_commands(click.Context(group)):
        command = _subcommand(group, name)
        if isinstance(command, click.Group):
            yield (*path, name)
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


ALL_COMMANDS = [(), *_commands(main)]
ISSUE_COMMANDS = [
    ("worker",),
    ("enqueue",),
    ("jobs", "list"),
    ("jobs", "show"),
    ("jobs", "retry"),
    ("jobs", "cancel"),
    ("db", "migrate"),
    ("db", "status"),
]


def test_the_core_commands_exist() -> None:
    assert set(ISSUE_COMMANDS) <= set(ALL_COMMANDS)


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: " ".join(c) or "jobdeck")
def test_help_on_every_command(command: tuple[str, ...]) -> None:
    output = ok(*command, "--help")
    assert output.startswith("Usage: ")
    target = main
    for name in command:
        assert isinstance(target, click.Group)
        target = _subcommand(target, name)
    if isinstance(target, click.Group):
        assert "Commands:" in output
    else:
        assert "--database" in output
        # DESIGN.md: every command takes --app and --database; the demo brings its own app.
        assert "--app" in output or command[0] == "demo"


def test_the_console_script_entry_point_shows_help() -> None:
    done = run_cli("--help")
    assert done.returncode == 0 and "worker" in done.stdout and "enqueue" in done.stdout


def test_a_misspelt_command_suggests_one_whose_module_is_not_loaded_yet() -> None:
    # A fresh process: the root group loads most commands on use, and the suggestion must
    # still know every name.
    done = run_cli("jbos")
    assert done.returncode != 0
    assert "No such command 'jbos'. Did you mean 'jobs'?" in done.stderr, done.stderr
