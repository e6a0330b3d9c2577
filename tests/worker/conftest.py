"""Fixtures for worker tests: a deck of test tasks on each dialect, and worker subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jobdeck import JobDeck
from tests.conftest import DIALECTS
from tests.worker import apps
from tests.worker.helpers import FAST, Processes, blank_database


@pytest.fixture
def deck(db_url: str) -> Iterator[JobDeck]:
    """The test tasks on a fresh database, with short timings."""
    made = apps.make_deck(db_url, **FAST)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(autouse=True)
def release_stuck_tasks() -> Iterator[None]:
    """Stuck in-process tasks wait on apps.RELEASE: free them when the test ends."""
    apps.RELEASE.clear()
    apps.CANCELLED.clear()
    yield
    apps.RELEASE.set()


@pytest.fixture
def procs(db_url: str, tmp_path: Path) -> Iterator[Processes]:
    """Worker subprocesses, killed before the database is dropped."""
    started = Processes(db_url, tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


@pytest.fixture(params=DIALECTS)
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database that was never migrated, of each dialect."""
    if request.param == "postgres":
        request.getfixturevalue("pg_template")  # skips (or fails under CI) without PostgreSQL
    with blank_database(request.param, tmp_path) as url:
        yield url
