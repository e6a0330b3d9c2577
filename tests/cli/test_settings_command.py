"""``jobdeck settings``: the effective settings and where each came from, for a real process
with a real environment, an app module and command-line options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.test_cli import assert_one_line_error

APP_SOURCE = """
from jobdeck import JobDeck

deck = JobDeck("sqlite:///from-code.db", concurrency=20)
"""


def jobdeck(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_")}
    return subprocess.run(
        [sys.executable, "-m", "jobdeck", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def effective(cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = jobdeck(cwd, "settings", "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def test_each_setting_says_where_it_came_from(tmp_path: Path) -> None:
    (tmp_path / "myjobs.py").write_text(APP_SOURCE)
    env = {"JOBDECK_CONCURRENCY": "5", "JOBDECK_LEASE_DURATION": "45s"}
    shown = effective(tmp_path, "--app", "myjobs:deck", "--queues", "mail,default", env=env)
    assert shown["concurrency"] == {"value": 20, "source": "code"}
    assert shown["lease_duration"] == {"value": 45.0, "source": "environment"}
    assert shown["queues"] == {"value": ["mail", "default"], "source": "command line"}
    assert shown["heartbeat_interval"] == {"value": 5.0, "source": "default"}
    assert shown["database_url"] == {"value": "sqlite:///from-code.db", "source": "code"}


def test_the_database_follows_the_one_rule(tmp_path: Path) -> None:
    (tmp_path / "myjobs.py").write_text(APP_SOURCE)
    from_env = {"JOBDECK_DATABASE_URL": "sqlite:///from-env.db"}
    assert effective(tmp_path)["database_url"] == {
        "value": "sqlite:///jobdeck.db",
        "source": "default",
    }
    assert effective(tmp_path, "--app", "myjobs:deck", env=from_env)["database_url"] == {
        "value": "sqlite:///from-env.db",
        "source": "environment",
    }
    given = effective(tmp_path, "--database", "postgresql://jobs:s3cret@db/app")
    assert given["database_url"] == {
        "value": "postgresql://jobs:***@db/app",
        "source": "command line",
    }


def test_secrets_in_urls_are_not_printed(tmp_path: Path) -> None:
    env = {
        "JOBDECK_SMTP_URL": "smtp://mailer:hunter2@mail.example:587",
        "JOBDECK_ALERT_WEBHOOKS": "https://hooks.example/services/T0/B0/secret-token",
    }
    done = jobdeck(tmp_path, "settings", env=env)
    assert done.returncode == 0, done.stderr
    assert "hunter2" not in done.stdout
    assert "secret-token" not in done.stdout
    assert "smtp://mailer:***@mail.example:587" in done.stdout
    assert "environment" in done.stdout


def test_a_misspelt_variable_is_one_line_with_a_hint(tmp_path: Path) -> None:
    done = jobdeck(tmp_path, "settings", env={"JOBDECK_CONCURENCY": "3"})
    assert_one_line_error(done, "JOBDECK_CONCURENCY", "did you mean JOBDECK_CONCURRENCY?")


def test_a_bad_value_stops_the_worker_before_it_starts(tmp_path: Path) -> None:
    (tmp_path / "myjobs.py").write_text(APP_SOURCE)
    done = jobdeck(
        tmp_path, "worker", "--app", "myjobs:deck", env={"JOBDECK_SHUTDOWN_GRACE": "soon"}
    )
    assert_one_line_error(done, "JOBDECK_SHUTDOWN_GRACE='soon'", "invalid duration")
