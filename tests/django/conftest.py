"""A real Django 6 project, written to a temporary folder and set up once for these tests.

Django reads its settings once per process, so one project serves every test, with both
stores side by side: TASKS["default"] is jobdeck on SQLite (transactions of the SQLite
"default" database, on_commit mode) and TASKS["pg"] is jobdeck inside the PostgreSQL database
Django's "pg" alias uses (join mode). Tests tell their jobs apart by id.
"""

from __future__ import annotations

import os
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import pgtools

DJANGO_SKIP = "Django 6 needs Python 3.12 or newer: make test runs tests/django on 3.13"

SETTINGS = """
SECRET_KEY = "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "jobdeck.contrib.django",
    "shop",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "djsite.urls"
DATABASES = {DATABASES!r}
TASKS = {TASKS!r}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Test speed only: the default PBKDF2 takes half a second per user the dashboard tests create.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""

URLS = """
from django.http import HttpResponse
from django.urls import path

def hello(request):
    name = request.user.get_username() if request.user.is_authenticated else "anonymous"
    return HttpResponse(f"hello {name}")

urlpatterns = [path("hello/", hello)]
"""

MANAGE = """
import os
import sys

from django.core.management import execute_from_command_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djsite.settings")
execute_from_command_line(sys.argv)
"""

TASKS_MODULE = """
from django.contrib.auth.models import User
from django.tasks import task

@task
def add(a, b):
    return a + b

@task(queue_name="mail", priority=10)
def send_mail(to, *, subject="hi"):
    return {"to": to, "subject": subject}

@task
def explode():
    raise ValueError("boom")

@task
def count_users(username):
    return User.objects.filter(username=username).count()

@task
async def async_add(a, b):
    return a + b

@task(backend="pg")
def pg_add(a, b):
    return a + b

@task(backend="pg")
def pg_count_users(username):
    return User.objects.using("pg").filter(username=username).count()
"""


@dataclass(frozen=True)
class DjangoProject:
    folder: Path
    sqlite_jobs_url: str
    pg_url: str | None  # the one database Django's "pg" alias and TASKS["pg"] share

    def env(self, backend: str | None = "default") -> dict[str, str]:
        """The environment a worker process of this project runs with (no backend: none set)."""
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "djsite.settings"}
        env["PYTHONPATH"] = os.pathsep.join([str(self.folder), env.get("PYTHONPATH", "")])
        env.pop("JOBDECK_DJANGO_BACKEND", None)
        if backend:
            env["JOBDECK_DJANGO_BACKEND"] = backend
        env.pop("JOBDECK_DATABASE_URL", None)
        return env


def _write_project(folder: Path, sqlite_jobs_url: str, pg_url: str | None) -> None:
    databases: dict[str, Any] = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(folder / "django.db")}
    }
    tasks: dict[str, Any] = {
        "default": {
            "BACKEND": "jobdeck.contrib.django.JobDeckBackend",
            "QUEUES": ["default", "mail", "process"],
            "OPTIONS": {
                "DATABASE": sqlite_jobs_url,
                "SETTINGS": {"backoff_base": 0.01, "heartbeat_interval": 0.5},
                "ROLES": {"superuser": "admin", "group:ops": "partner", "staff": "attorney"},
            },
        }
    }
    if pg_url:
        name = pg_url.rsplit("/", 1)[1]
        databases["pg"] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
        }
        tasks["pg"] = {
            "BACKEND": "jobdeck.contrib.django.JobDeckBackend",
            "QUEUES": ["default", "process"],
            "OPTIONS": {"DATABASE": pg_url, "TRANSACTION": "join", "USING": "pg"},
        }
    (folder / "djsite").mkdir()
    (folder / "djsite" / "__init__.py").write_text("")
    settings = SETTINGS.replace("{DATABASES!r}", repr(databases)).replace("{TASKS!r}", repr(tasks))
    (folder / "djsite" / "settings.py").write_text(textwrap.dedent(settings))
    (folder / "djsite" / "urls.py").write_text(URLS)
    (folder / "manage.py").write_text(MANAGE)
    (folder / "shop").mkdir()
    (folder / "shop" / "__init__.py").write_text("")
    (folder / "shop" / "tasks.py").write_text(TASKS_MODULE)


@pytest.fixture(scope="session")
def django_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DjangoProject]:
    pytest.importorskip("django", minversion="6.0", reason=DJANGO_SKIP)
    from django.core.management import call_command

    import django

    folder = tmp_path_factory.mktemp("djproject")
    sqlite_jobs_url = f"sqlite:///{folder / 'jobs.db'}"
    pg_name = None
    problem = pgtools.unavailable_reason()
    if problem and os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {problem}")
    if not problem:
        pg_name = f"jd_django_{uuid.uuid4().hex[:10]}"
        pgtools.create_database(pg_name, pgtools.migrated_template())
    pg_url = pgtools.url_for(pg_name) if pg_name else None
    _write_project(folder, sqlite_jobs_url, pg_url)
    sys.path.insert(0, str(folder))
    os.environ["DJANGO_SETTINGS_MODULE"] = "djsite.settings"
    django.setup()
    from jobdeck.contrib.django import deck_for

    deck_for("default").migrate()
    call_command("migrate", verbosity=0, interactive=False)
    if pg_url:
        call_command("migrate", database="pg", verbosity=0, interactive=False)
    try:
        yield DjangoProject(folder, sqlite_jobs_url, pg_url)
    finally:
        from django.db import connections

        from jobdeck.contrib.django import backend

        connections.close_all()
        for deck in backend._decks.values():
            deck.close()
        if pg_name:
            pgtools.drop_database(pg_name)


@pytest.fixture
def pg_project(django_project: DjangoProject) -> DjangoProject:
    if django_project.pg_url is None:
        pytest.skip(f"PostgreSQL unavailable: {pgtools.unavailable_reason()}")
    return django_project


@pytest.fixture(scope="session")
def workers(django_project: DjangoProject) -> Iterator[dict[str, Any]]:
    """A worker thread per backend alias, started by ``workers["start"](alias)``; it serves
    the default and mail queues (the worker-process tests use the process queue)."""
    import threading

    from jobdeck.contrib.django import deck_for
    from jobdeck.contrib.django.registry import discover_tasks, jobdeck_task

    started: dict[str, Any] = {}
    threads: list[threading.Thread] = []

    def start(alias: str) -> None:
        if alias in started:
            return
        # As the worker module does: every task registered before the worker starts (a worker
        # starts its event loop for async tasks only if it has some then).
        for task in discover_tasks(alias):
            jobdeck_task(deck_for(alias), task)
        worker = deck_for(alias).worker(
            queues=("default", "mail"),
            scheduler_enabled=False,
            heartbeat_interval=0.2,
            backoff_base=0.01,
        )
        thread = threading.Thread(target=worker.run, kwargs={"install_signals": False})
        thread.start()
        started[alias] = worker
        threads.append(thread)

    yield {"start": start}
    for worker in started.values():
        worker.stop()
    for thread in threads:
        thread.join(timeout=10)
