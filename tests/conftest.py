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


# The layers above the store run on SQLite alone: the store's own tests (tests/store), the
# worker's and the scheduler's run every verb on both stores, and a page or command reads the
# same verbs on either. A module of these layers marked both_stores runs on PostgreSQL too:
# where what a request carries reaches each dialect's SQL differently (fuzzing, hostile input,
# search). This halves the web, browser and CLI tests on a CPU-bound 2-core suite.
# JOBDECK_TEST_ALL_STORES=1 (make test-all-stores) keeps every PostgreSQL twin.
ONE_STORE_LAYERS = {"web", "browser", "cli"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("JOBDECK_TEST_ALL_STORES") == "1":
        return
    kept, dropped = [], []
    for item in items:
        (dropped if _postgres_twin(item) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _postgres_twin(item: pytest.Item) -> bool:
    """A test of a one-store layer, in its PostgreSQL parametrization, not marked both_stores."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    on_postgres = "postgres" in (params.get("db_url"), params.get("module_db_url"))
    layer = item.path.parent.name if item.path.parent.parent.name == "tests" else ""
    marked = item.get_closest_marker("both_stores") is not None
    return on_postgres and layer in ONE_STORE_LAYERS and not marked


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes ~70 ms of CPU a hash, and the web, browser, CLI and
    demo tests hash hundreds of times on a CPU-bound suite. Tests without the dashboard extra
    (the core install) have no argon2 and nothing to hash."""
    try:
        from argon2 import PasswordHasher

        from jobdeck import accounts
    except ImportError:
        return
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


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
    yield from migrated_database(request, tmp_path)


@pytest.fixture(scope="module", params=DIALECTS)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database of each dialect for a whole module, for the fixtures whose
    set-up outweighs their tests (a seeded deck that many read-only or fuzzing tests share)."""
    yield from migrated_database(request, tmp_path_factory.mktemp("module-db"))


def migrated_database(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'jobs.db'}"
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
