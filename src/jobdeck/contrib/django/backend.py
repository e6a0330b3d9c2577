"""The ``django.tasks`` backend: Django's ``Task.enqueue`` writes a jobdeck job, and
``get_result`` reads it back as a ``TaskResult`` with jobdeck's state mapped to Django's."""

from __future__ import annotations

import inspect
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings  # type: ignore[import-not-found]
from django.db import connections, transaction  # type: ignore[import-not-found]
from django.tasks import (  # type: ignore[import-not-found]
    Task as DjangoTask,
)
from django.tasks import (
    TaskResult,
    TaskResultStatus,
)
from django.tasks.backends.base import BaseTaskBackend  # type: ignore[import-not-found]
from django.tasks.base import TaskError  # type: ignore[import-not-found]
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist  # type: ignore[import-not-found]
from django.tasks.signals import task_enqueued  # type: ignore[import-not-found]
from django.utils import timezone  # type: ignore[import-not-found]
from django.utils.module_loading import import_string  # type: ignore[import-not-found]

from jobdeck.app import JobDeck
from jobdeck.contrib.django.registry import jobdeck_task
from jobdeck.errors import ConfigError
from jobdeck.settings import check_option_names
from jobdeck.states import JobState
from jobdeck.store.base import AttemptRow, JobRow

OPTION_NAMES = ("DATABASE", "TRANSACTION", "USING", "ROLES", "TASK_MODULES", "SETTINGS")
TRANSACTION_MODES = ("on_commit", "join", "immediate")
PROVISIONAL_PREFIX = "uncommitted-"

# Django creates a backend per thread (its handler keeps them in an asgiref Local); they must
# share one deck per alias, or every request thread would open its own pool of connections.
_decks: dict[str, JobDeck] = {}
_decks_lock = threading.Lock()

_STATUSES = {
    JobState.WAITING: TaskResultStatus.READY,  # waiting for its parent jobs (after=)
    JobState.SCHEDULED: TaskResultStatus.READY,
    JobState.AVAILABLE: TaskResultStatus.READY,
    JobState.RETRYABLE: TaskResultStatus.READY,  # Django: "ready to be executed again"
    JobState.RUNNING: TaskResultStatus.RUNNING,
    JobState.SUCCEEDED: TaskResultStatus.SUCCESSFUL,
    JobState.FAILED: TaskResultStatus.FAILED,
    JobState.CANCELLED: TaskResultStatus.FAILED,
}


def deck_for(alias: str = "default") -> JobDeck:
    """The JobDeck behind the ``TASKS`` backend ``alias``: the worker's and dashboard's deck."""
    with _decks_lock:
        deck = _decks.get(alias)
        if deck is None:
            options = backend_options(alias)
            deck = JobDeck(options.get("DATABASE"), **dict(options.get("SETTINGS") or {}))
            _decks[alias] = deck
        return deck


def backend_options(alias: str) -> Mapping[str, Any]:
    """OPTIONS of the ``TASKS`` entry ``alias``, checked (a misspelt name gets a hint)."""
    configured = getattr(settings, "TASKS", {})
    if alias not in configured:
        raise ConfigError(f"TASKS has no backend {alias!r}: known are {sorted(configured)}")
    entry = configured[alias]
    if not str(entry.get("BACKEND", "")).startswith("jobdeck.contrib.django"):
        raise ConfigError(f"TASKS[{alias!r}] is not a jobdeck backend ({entry.get('BACKEND')})")
    options: Mapping[str, Any] = entry.get("OPTIONS", {})
    check_option_names(options, list(OPTION_NAMES), f"TASKS[{alias!r}] OPTIONS name")
    mode = options.get("TRANSACTION", "on_commit")
    if mode not in TRANSACTION_MODES:
        raise ConfigError(f"TASKS[{alias!r}] TRANSACTION must be one of {TRANSACTION_MODES}")
    return options


class JobDeckBackend(BaseTaskBackend):  # type: ignore[misc]
    """``TASKS = {"default": {"BACKEND": "jobdeck.contrib.django.JobDeckBackend",
    "QUEUES": ["default", "mail"], "OPTIONS": {"DATABASE": "postgresql://..."}}}``

    OPTIONS: DATABASE (jobdeck's URL; default $JOBDECK_DATABASE_URL), TRANSACTION
    ("on_commit", "join" or "immediate"), USING (the Django database whose transactions
    count; "default"), ROLES (Django users and groups to dashboard roles), TASK_MODULES
    (modules holding tasks besides each app's ``tasks``), SETTINGS (jobdeck settings).
    """

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: Mapping[str, Any]) -> None:
        super().__init__(alias, params)
        options = backend_options(alias)
        self.transaction_mode: str = options.get("TRANSACTION", "on_commit")
        self.using: str = options.get("USING", "default")
        self.deck = deck_for(alias)
        if self.transaction_mode == "join" and not self.deck.database_url.startswith("postgres"):
            raise ConfigError(
                f"TASKS[{alias!r}] TRANSACTION 'join' needs jobdeck on PostgreSQL, in the "
                f"database Django's {self.using!r} connection uses"
            )

    def validate_task(self, task: DjangoTask) -> None:
        super().validate_task(task)
        if task.takes_context:
            raise InvalidTask(
                "jobdeck does not pass a TaskContext yet: drop takes_context=True from "
                f"{task.module_path}"
            )

    def enqueue(self, task: DjangoTask, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        self.validate_task(task)
        try:
            inspect.signature(task.func).bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidTask(f"{task.module_path}: {exc}") from None
        bound = jobdeck_task(self.deck, task).options(
            queue=task.queue_name, priority=task.priority, run_at=_aware(task.run_after)
        )
        job_args = {"args": list(args), "kwargs": dict(kwargs)}
        in_atomic = connections[self.using].in_atomic_block
        if self.transaction_mode == "join":
            # The job row is written on Django's own connection: it commits or rolls back with
            # the caller's data, and its id is known at once.
            connection = connections[self.using]
            connection.ensure_connection()
            job_id = bound.options(conn=connection.connection).enqueue(**job_args).id
            return self._sent(self._new_result(task, str(job_id), args, kwargs))
        if self.transaction_mode == "immediate" or not in_atomic:
            job_id = bound.enqueue(**job_args).id
            return self._sent(self._new_result(task, str(job_id), args, kwargs))
        # Inside transaction.atomic(): the job is written when the outermost block commits, so a
        # worker never runs it before the rows it reads exist, and never after a rollback. Until
        # then its id is provisional; the commit gives this same TaskResult the job's id.
        result = self._new_result(task, f"{PROVISIONAL_PREFIX}{uuid.uuid4().hex}", args, kwargs)

        def write_job() -> None:
            object.__setattr__(result, "id", str(bound.enqueue(**job_args).id))
            self._sent(result)

        transaction.on_commit(write_job, using=self.using)
        return result

    def get_result(self, result_id: str) -> Any:
        if str(result_id).startswith(PROVISIONAL_PREFIX):
            raise TaskResultDoesNotExist(
                f"{result_id}: its transaction has not committed, so the job does not exist yet"
            )
        try:
            job_id = int(result_id)
        except (TypeError, ValueError):
            raise TaskResultDoesNotExist(f"{result_id!r} is not a jobdeck job id") from None
        row = self.deck.store.get_job(job_id)
        if row is None:
            raise TaskResultDoesNotExist(f"job {job_id} does not exist (pruned or never created)")
        return self._stored_result(row, self.deck.store.get_attempts(job_id))

    def _new_result(
        self, task: DjangoTask, result_id: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Any:
        return TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )

    def _sent(self, result: Any) -> Any:
        object.__setattr__(result, "enqueued_at", timezone.now())
        task_enqueued.send(type(self), task_result=result)
        return result

    def _stored_result(self, row: JobRow, attempts: list[AttemptRow]) -> Any:
        try:
            found = import_string(row.task)
        except ImportError:
            found = None
        if not isinstance(found, DjangoTask):
            raise TaskResultDoesNotExist(f"job {row.id} ({row.task}) is not a Django task")
        task = found.using(queue_name=row.queue, priority=row.priority)
        result = TaskResult(
            task=task,
            id=str(row.id),
            status=_STATUSES[row.state],
            enqueued_at=row.enqueued_at,
            started_at=row.started_at,
            finished_at=row.finished_at if row.state.is_final else None,
            last_attempted_at=attempts[-1].started_at if attempts else None,
            args=row.args.get("args", []),
            kwargs=row.args.get("kwargs", {}),
            backend=self.alias,
            errors=[_task_error(a) for a in attempts if a.error],
            worker_ids=[a.worker_id or "" for a in attempts],
        )
        if row.state is JobState.SUCCEEDED:
            object.__setattr__(result, "_return_value", row.result)
        return result


def _aware(moment: datetime | None) -> datetime | None:
    """Django gives naive local times when USE_TZ is False; jobdeck stores aware times."""
    if moment is None or timezone.is_aware(moment):
        return moment
    aware: datetime = timezone.make_aware(moment)
    return aware


def _task_error(attempt: AttemptRow) -> Any:
    """Django names an error by its exception's import path; jobdeck keeps the traceback, whose
    last line starts with that path (without "builtins." for built-in exceptions)."""
    trace = attempt.traceback or attempt.error or ""
    last = trace.rstrip().splitlines()[-1] if trace.strip() else "Exception"
    name = last.split(":", 1)[0].strip()
    return TaskError(
        exception_class_path=name if "." in name else f"builtins.{name}", traceback=trace
    )
