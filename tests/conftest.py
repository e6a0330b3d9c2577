"""Fixtures shared by every test: a fresh database per test, on SQLite and on real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobdeck.store import open_store
from jobdeck.store.base import Store
from tests import pgtools

DIALECTS = ["sqlite", "postgres"]


def pytest_report_header(config: pytest.Config) -> str:
    problem = pgtools.unavailable_reason()
    if problem:
        return f"!!! PostgreSQL tests will SKIP: {problem} !!!"
    return f"PostgreSQL: {pgtools.ADMIN_URL}"


@pytest.fixture(scope="session")
def pg_template() -> str:
    problem = pgtools.unavailable_reason()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {problem}")
        pytest.skip(f"PostgreSQL unavailable: {problem}")
    return pgtools.migrated_template()


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each dialect."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
        store = open_store(url)
        store.migrate()
        store.close()
        yield url
        return
    template = request.getfixturevalue("pg_template")
    name = f"jd_{uuid.uuid4().hex[:12]}"
    pgtools.create_database(name, template)
    try:
        yield pgtools.url_for(name)
    finally:
        pgtools.drop_database(name)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    try:
        yield opened
    finally:
        opened.close()
