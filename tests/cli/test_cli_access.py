"""The users and tokens commands: what an administrator types on the server."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from jobdeck import accounts
from jobdeck.console import main
from jobdeck.store import open_store
from jobdeck.store.base import AuditFilter
from tests.worker.helpers import ROOT


def cli(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=stdin, env={"JOBDECK_DATABASE_URL": None})


def test_users_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    assert cli("db", "migrate", "--database", url).exit_code == 0
    added = cli(
        "users",
        "add",
        "Ann@Example.com",
        "--role",
        "partner",
        "--password-stdin",
        "--database",
        url,
        stdin="a long password\n",
    )
    assert added.exit_code == 0 and "added ann@example.com as partner" in added.output
    listed = cli("users", "list", "--database", url)
    assert "ann@example.com" in listed.output and "partner" in listed.output
    assert cli("users", "set-role", "ann@example.com", "manager", "--database", url).exit_code == 0
    assert cli("users", "disable", "ann@example.com", "--database", url).exit_code == 0
    store = open_store(url)
    user = store.find_user("ann@example.com")
    assert user is not None and user.role == "manager" and not user.active
    kinds = {r.action_type for r in store.list_audit(AuditFilter(executions=False), 20)}
    assert {"user_created", "user_role_changed", "user_disabled"} <= kinds
    store.close()


def test_tokens_are_printed_once_and_revocable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    cli("db", "migrate", "--database", url)
    created = cli("tokens", "create", "uptime checker", "--role", "partner", "--database", url)
    secret = created.output.strip().splitlines()[-1]
    assert created.exit_code == 0 and secret.startswith(accounts.TOKEN_PREFIX)
    listed = cli("tokens", "list", "--database", url)
    assert "uptime checker" in listed.output and secret not in listed.output
    assert cli("tokens", "revoke", "1", "--database", url).exit_code == 0
    store = open_store(url)
    assert accounts.token_role(store, store.clock, secret) is None  # type: ignore[attr-defined]
    store.close()


def test_bad_role_and_short_password_are_one_line_errors(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'bad.db'}"
    cli("db", "migrate", "--database", url)
    for args, stdin, expected in (
        (["users", "add", "a@x.io", "--role", "wizard"], "long enough pw\n", "unknown role"),
        (["users", "add", "a@x.io", "--role", "admin"], "short\n", "at least 8"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "jobdeck", *args, "--password-stdin", "--database", url],
            input=stdin,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 1 and expected in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
