"""A real ``jobdeck worker`` process runs a Django project's tasks, on SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.django.conftest import DJANGO_SKIP, DjangoProject

pytest.importorskip("django", minversion="6.0", reason=DJANGO_SKIP)


@pytest.mark.parametrize(
    ("alias", "launch"), [("default", "jobdeck"), ("pg", "jobdeck"), ("pg", "manage.py")]
)
def test_a_worker_process_runs_a_django_task_to_success(
    request: pytest.FixtureRequest,
    django_project: DjangoProject,
    tmp_path: Path,
    alias: str,
    launch: str,
) -> None:
    from django.contrib.auth.models import User
    from django.tasks import TaskResultStatus
    from shop import tasks

    from jobdeck.contrib.django import deck_for

    if alias == "pg":
        request.getfixturevalue("pg_project")
        User.objects.using("pg").create(username=f"seen-by-worker-{launch}")
        task = tasks.pg_count_users
    else:
        User.objects.create(username=f"seen-by-worker-{launch}")
        task = tasks.count_users
    # Enqueued before the worker starts: the worker must find the task by itself.
    # The process queue: the in-process worker threads of other tests never take it.
    result = task.using(queue_name="process").enqueue(f"seen-by-worker-{launch}")
    log = tmp_path / "worker.log"
    if launch == "manage.py":  # the settings come from manage.py, the alias from --backend
        command = [sys.executable, "manage.py", "jobdeck_worker", "--backend", alias]
    else:
        command = [sys.executable, "-m", "jobdeck", "worker"]
        command += ["--app", "jobdeck.contrib.django.worker:deck"]
    command += ["--no-scheduler", "-q", "process"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=django_project.folder,
            env=django_project.env(alias if launch == "jobdeck" else None),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deck_for(alias).job(int(result.id)).wait(20)
        done = task.get_result(result.id)
        assert done.status == TaskResultStatus.SUCCESSFUL, log.read_text()
        assert done.return_value == 1
        assert done.worker_ids[0].split(":")[1] == str(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()


def test_the_worker_module_needs_django_settings(django_project: DjangoProject) -> None:
    env = django_project.env()
    env.pop("DJANGO_SETTINGS_MODULE")
    command = [sys.executable, "-m", "jobdeck", "worker"]
    command += ["--app", "jobdeck.contrib.django.worker:deck"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "DJANGO_SETTINGS_MODULE" in done.stderr
