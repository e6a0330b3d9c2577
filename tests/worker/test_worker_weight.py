"""What a ``jobdeck worker`` process imports: nothing it never uses (issue 20, DESIGN.md's
"Worker weight"). Each module kept out here is resident memory a worker no longer carries;
the test fails when an eager import brings one back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from jobdeck import JobDeck
from tests.worker.helpers import ROOT, wait_until
from tests.worker.lean_app import NOOP

# Never in a worker: the web stack, the operators' layer, the other commands, the plugins.
NEVER = (
    "fastapi",
    "pydantic",
    "starlette",
    "jinja2",
    "uvicorn",
    "rich",
    "argon2",
    "jobdeck.web",
    "jobdeck.control",
    "jobdeck.contrib",
    "jobdeck.demo",
    "jobdeck.accounts",
    "jobdeck.cli.jobs",
    "jobdeck.cli.accounts",
    "jobdeck.cli.errors",
    "jobdeck.cli.queues",
    "jobdeck.cli.schedules",
    "jobdeck.cli.stats",
    "jobdeck.cli.dashboard",
    "jobdeck.cli.views",
)
# Not on SQLite either: hashlib maps OpenSSL's libcrypto (3.4 MB), and no async task means no
# event loop. psycopg imports asyncio, ssl and (through importlib.metadata) email itself.
NOT_ON_SQLITE = ("hashlib", "_hashlib", "ssl", "_ssl", "asyncio", "email")


def worker_modules(db_url: str, tmp_path: Path) -> set[str]:
    """``sys.modules`` of a real worker process that ran one job and stopped on SIGTERM."""
    modules_file = tmp_path / "modules.txt"
    env = {**os.environ, "JOBDECK_TEST_MODULES": str(modules_file)}
    env.pop("JOBDECK_DATABASE_URL", None)
    command = [sys.executable, "-m", "jobdeck", "worker", "--app", "tests.worker.lean_app:deck"]
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--database", db_url], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    deck = JobDeck(db_url)
    deck.task(name=NOOP)(lambda: None)
    try:
        handle = deck.tasks[NOOP].enqueue()
        wait_until(lambda: handle.refresh().state == "succeeded" or proc.poll() is not None, 30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        deck.close()
    assert handle.refresh().state == "succeeded", log.read_text()
    return set(modules_file.read_text().split())


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names))


def test_a_worker_imports_nothing_it_never_uses(db_url: str, tmp_path: Path) -> None:
    modules = worker_modules(db_url, tmp_path)
    assert "jobdeck.worker.worker" in modules  # the file was written by a worker that ran
    assert loaded(modules, NEVER) == []
    if db_url.startswith("sqlite"):
        assert loaded(modules, NOT_ON_SQLITE) == []
