"""The django.tasks backend in-process: enqueue options, results and states, transactions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.django.conftest import DJANGO_SKIP, DjangoProject

pytest.importorskip("django", minversion="6.0", reason=DJANGO_SKIP)


def _wait(task: Any, result_id: str, timeout: float = 10.0) -> Any:
    from jobdeck.contrib.django import deck_for

    deck_for(task.backend).job(int(result_id)).wait(timeout)
    return task.get_result(result_id)


def test_enqueue_maps_queue_priority_and_run_after(django_project: DjangoProject) -> None:
    from django.tasks import TaskResultStatus
    from django.utils import timezone
    from shop import tasks

    from jobdeck.contrib.django import deck_for

    later = timezone.now() + dt.timedelta(hours=1)
    result = tasks.send_mail.using(run_after=later).enqueue("a@example.com", subject="x")
    assert result.status == TaskResultStatus.READY
    assert result.enqueued_at is not None
    row = deck_for("default").store.get_job(int(result.id))
    assert row is not None
    assert (row.task, row.queue, row.priority) == ("shop.tasks.send_mail", "mail", 10)
    assert row.state == "scheduled"
    assert abs((row.run_at - later).total_seconds()) < 0.01
    assert row.args == {"args": ["a@example.com"], "kwargs": {"subject": "x"}}

    fetched = tasks.send_mail.get_result(result.id)
    assert fetched.status == TaskResultStatus.READY
    assert (fetched.args, fetched.kwargs) == (["a@example.com"], {"subject": "x"})
    assert fetched.task.queue_name == "mail"
    assert not fetched.is_finished
    with pytest.raises(ValueError, match="not finished"):
        _ = fetched.return_value


def test_bad_arguments_and_unknown_ids_are_refused(django_project: DjangoProject) -> None:
    from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
    from shop import tasks

    with pytest.raises(InvalidTask, match="send_mail"):
        tasks.send_mail.enqueue()
    with pytest.raises(InvalidTask, match="Queue 'nope'"):
        tasks.add.using(queue_name="nope")
    with pytest.raises(TaskResultDoesNotExist):
        tasks.add.get_result("999999")
    with pytest.raises(TaskResultDoesNotExist, match="not a jobdeck job id"):
        tasks.add.get_result("abc")


@pytest.mark.parametrize("alias", ["default", "pg"])
def test_results_success_failure_and_async(
    request: pytest.FixtureRequest, django_project: DjangoProject, workers: Any, alias: str
) -> None:
    from django.tasks import TaskResultStatus
    from shop import tasks

    if alias == "pg":
        request.getfixturevalue("pg_project")
        add = tasks.pg_add
    else:
        add = tasks.add
    workers["start"](alias)

    done = _wait(add, add.enqueue(2, b=3).id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == 5
    assert done.started_at is not None and done.finished_at is not None
    assert done.last_attempted_at is not None
    assert done.attempts == 1 and done.worker_ids[0]
    assert done.errors == []

    if alias == "default":
        failed = _wait(tasks.explode, tasks.explode.enqueue().id)
        assert failed.status == TaskResultStatus.FAILED
        assert failed.attempts == 3  # jobdeck's retries (default_max_attempts), READY between
        assert [e.exception_class for e in failed.errors] == [ValueError] * 3
        assert "boom" in failed.errors[0].traceback
        with pytest.raises(ValueError, match="Task failed"):
            _ = failed.return_value

        from_async = _wait(tasks.async_add, tasks.async_add.enqueue(1, 1).id)
        assert from_async.return_value == 2

        refreshed = tasks.add.enqueue(1, 2)
        _wait(tasks.add, refreshed.id)
        refreshed.refresh()
        assert refreshed.status == TaskResultStatus.SUCCESSFUL
        assert refreshed.return_value == 3


def test_on_commit_writes_the_job_when_the_transaction_commits(
    django_project: DjangoProject,
) -> None:
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.tasks.exceptions import TaskResultDoesNotExist
    from shop import tasks

    from jobdeck.contrib.django import deck_for

    store = deck_for("default").store
    with transaction.atomic():
        User.objects.create(username="committed")
        result = tasks.count_users.enqueue("committed")
        assert result.id.startswith("uncommitted-")  # no job before the commit
        with pytest.raises(TaskResultDoesNotExist, match="not committed"):
            tasks.count_users.get_result(result.id)
    job = store.get_job(int(result.id))  # the commit gave the same TaskResult its job id
    assert job is not None and job.args == {"args": ["committed"], "kwargs": {}}

    before = store.count_jobs(_filter("shop.tasks.count_users"))
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.count_users.enqueue("rolled back")
        raise RuntimeError("roll back")
    assert store.count_jobs(_filter("shop.tasks.count_users")) == before


def test_join_commits_and_rolls_back_with_djangos_postgresql_transaction(
    pg_project: DjangoProject, workers: Any
) -> None:
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.tasks import TaskResultStatus
    from shop import tasks

    from jobdeck.contrib.django import deck_for

    store = deck_for("pg").store
    workers["start"]("pg")
    with transaction.atomic(using="pg"):
        User.objects.using("pg").create(username="joined")
        result = tasks.pg_count_users.enqueue("joined")
        assert result.id.isdigit()  # the row is in Django's transaction, id known at once
    done = _wait(tasks.pg_count_users, result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == 1  # the worker saw the user committed with the job

    with pytest.raises(RuntimeError), transaction.atomic(using="pg"):
        rolled_back = tasks.pg_count_users.enqueue("never")
        raise RuntimeError("roll back")
    assert store.get_job(int(rolled_back.id)) is None


def _filter(task: str) -> Any:
    from jobdeck.store.base import JobFilter

    return JobFilter(tasks=[task])


def test_immediate_mode_and_aenqueue_write_at_once_even_inside_atomic(
    django_project: DjangoProject,
) -> None:
    import asyncio

    from django.db import transaction
    from django.test import override_settings
    from shop import tasks

    from jobdeck.contrib.django import deck_for

    now = {
        "BACKEND": "jobdeck.contrib.django.JobDeckBackend",
        "OPTIONS": {"DATABASE": django_project.sqlite_jobs_url, "TRANSACTION": "immediate"},
    }
    with override_settings(TASKS={**_tasks_setting(), "now": now}):
        add = tasks.add.using(backend="now")
        with pytest.raises(RuntimeError), transaction.atomic():
            written = add.enqueue(1, 2)
            raise RuntimeError("roll back")
        assert deck_for("now").store.get_job(int(written.id)) is not None  # Django's default
        from_async = asyncio.run(tasks.add.aenqueue(4, 5))
        assert from_async.id.isdigit()
        assert tasks.add.get_result(from_async.id).args == [4, 5]


def test_options_are_checked(django_project: DjangoProject) -> None:
    from django.tasks import task_backends
    from django.test import override_settings

    from jobdeck.errors import ConfigError

    backend = "jobdeck.contrib.django.JobDeckBackend"
    url = django_project.sqlite_jobs_url
    cases = {
        "did you mean 'DATABASE'": {"DATABSE": url},
        "TRANSACTION must be one of": {"DATABASE": url, "TRANSACTION": "later"},
        "'join' needs jobdeck on PostgreSQL": {"DATABASE": url, "TRANSACTION": "join"},
    }
    for number, (message, options) in enumerate(cases.items()):
        alias = f"bad{number}"
        entry = {"BACKEND": backend, "OPTIONS": options}
        with (
            override_settings(TASKS={**_tasks_setting(), alias: entry}),
            pytest.raises(ConfigError, match=message),
        ):
            task_backends[alias]


def _tasks_setting() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.TASKS)
