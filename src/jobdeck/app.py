"""The JobDeck object: the registry of tasks, the settings, and the store they share."""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from jobdeck.clock import Clock, SystemClock
from jobdeck.errors import ConfigError, UnknownTask
from jobdeck.schedules import DEFAULT_RUN_NOW_COOLDOWN, Schedule, build_schedule
from jobdeck.settings import CODE, DEFAULT, ENVIRONMENT, Settings, check_option_names
from jobdeck.store import DEFAULT_URL, open_store
from jobdeck.store.base import Store
from jobdeck.tasks import JobHandle, Task

if TYPE_CHECKING:
    from jobdeck.worker import Worker

P = ParamSpec("P")
R = TypeVar("R")


def database_url_and_source(explicit: str | None = None) -> tuple[str, str]:
    """The URL given in code, else $JOBDECK_DATABASE_URL, else jobdeck.db here; and which."""
    if explicit:
        return explicit, CODE
    from_env = os.environ.get("JOBDECK_DATABASE_URL")
    return (from_env, ENVIRONMENT) if from_env else (DEFAULT_URL, DEFAULT)


class JobDeck:
    """Tasks, settings and a store.

    >>> deck = JobDeck("sqlite:///jobs.db")
    >>> @deck.task(queue="default", max_attempts=3)
    ... def send_email(to: str) -> dict: ...
    """

    def __init__(
        self, database_url: str | None = None, *, clock: Clock | None = None, **settings: Any
    ) -> None:
        self.database_url, self.database_url_source = database_url_and_source(database_url)
        self.settings = Settings.build(**settings)
        self.clock = clock or SystemClock()
        self.tasks: dict[str, Task[..., Any]] = {}
        self.schedules: dict[str, Schedule] = {}
        self._store: Store | None = None
        self._store_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<JobDeck {self.database_url} tasks={len(self.tasks)}>"

    @property
    def store(self) -> Store:
        """The store, opened on first use (so importing an app never touches the database)."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    self._store = open_store(self.database_url, self.clock)
        return self._store

    @overload
    def task(self, fn: Callable[P, R], /) -> Task[P, R]: ...

    @overload
    def task(
        self, fn: None = None, /, **options: Any
    ) -> Callable[[Callable[P, R]], Task[P, R]]: ...

    def task(self, fn: Callable[P, R] | None = None, /, **options: Any) -> Any:
        """Register a function as a task: ``@deck.task`` or ``@deck.task(queue=..., ...)``.

        Options: name, queue, max_attempts, timeout, priority, labels, executor
        ("thread", "async", "process"), retry_backoff, expected_duration.
        """

        check_option_names(options, TASK_OPTIONS, "task option")

        def register(function: Callable[P, R]) -> Task[P, R]:
            task: Task[P, R] = Task(self, function, **options)
            if task.name in self.tasks and self.tasks[task.name].fn is not function:
                raise ConfigError(f"two tasks are named {task.name!r}: pass name= to one of them")
            self.tasks[task.name] = task
            return task

        return register(fn) if fn is not None else register

    def periodic(
        self,
        *,
        cron: str | None = None,
        every: str | float | timedelta | None = None,
        name: str | None = None,
        timezone: str = "UTC",
        title: str | None = None,
        description: str = "",
        expected_max_age: str | float | timedelta | None = None,
        alert_after: str | float | timedelta | None = None,
        catch_up: str = "latest",
        args: dict[str, Any] | None = None,
        min_every: timedelta = timedelta(seconds=1),
        run_now_cooldown: str | float | timedelta = DEFAULT_RUN_NOW_COOLDOWN,
        **task_options: Any,
    ) -> Callable[[Callable[P, R]], Task[P, R]]:
        """Run a function on a schedule; it is also registered as a task (enqueueable as usual).

        >>> @deck.periodic(name="check-sla-and-overdue", cron="*/15 * * * *",
        ...                timezone="Asia/Kolkata", expected_max_age="15m", alert_after="30m")
        ... def check_sla_and_overdue() -> dict: ...

        ``run_now_cooldown`` (10 s): for this long after a manual run finished, Run Now
        answers with that run unless a second one is confirmed.
        """

        check_option_names(task_options, TASK_OPTIONS + PERIODIC_OPTIONS, "periodic option")

        def register(function: Callable[P, R]) -> Task[P, R]:
            task = (
                self.task(name=name, **task_options)(function)
                if name
                else self.task(**task_options)(function)
            )
            schedule = build_schedule(
                task,
                name=name or task.name,
                cron=cron,
                every=every,
                timezone=timezone,
                title=title,
                description=description,
                expected_max_age=expected_max_age,
                alert_after=alert_after,
                catch_up=catch_up,
                args=args,
                min_every=min_every,
                run_now_cooldown=run_now_cooldown,
            )
            self.schedules[schedule.name] = schedule
            return task

        return register

    def run_now(
        self, name: str, by: str = "unknown", *, confirm: bool = False
    ) -> tuple[JobHandle, bool]:
        """Enqueue a manual run of a schedule now; ``created`` is False when one is already
        queued or running, or finished within the schedule's ``run_now_cooldown`` and
        ``confirm`` is not set (so a spammed Run Now button runs once).

        >>> job, created = deck.run_now("check-sla-and-overdue", by="alice@example.com")
        """
        from jobdeck.auditlog import Actor
        from jobdeck.control.schedules import run_now

        result = run_now(self, name, Actor(by, via="code"), confirm=confirm)
        return JobHandle(self, result.job_id, created=result.created), result.created

    def get_task(self, name: str) -> Task[..., Any]:
        try:
            return self.tasks[name]
        except KeyError:
            raise UnknownTask(
                f"unknown task {name!r}: known tasks are {sorted(self.tasks)}"
            ) from None

    def job(self, job_id: int) -> JobHandle:
        return JobHandle(self, job_id).refresh()

    def migrate(self) -> list[str]:
        return self.store.migrate()

    def asgi(self, *, authorize: Any = None, **options: Any) -> Any:
        """The dashboard as an ASGI app; mount it anywhere:
        ``app.mount("/admin/jobs", deck.asgi())``. ``authorize(request)`` maps a request to a
        ``jobdeck.web.access.Principal`` to reuse your application's login."""
        from jobdeck.web.app import create_app

        return create_app(self, authorize=authorize, **options)

    def worker(self, **overrides: Any) -> Worker:
        """A worker for this deck's tasks; ``overrides`` replace settings (queues, concurrency)."""
        from jobdeck.worker import Worker

        return Worker(self, self.settings.replace(**overrides) if overrides else self.settings)

    def use_database(self, url: str, source: str = CODE) -> None:
        """Point the deck at another database (closing the store it had open)."""
        self.close()
        self.database_url, self.database_url_source = url, source

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _keyword_options(function: Callable[..., Any]) -> list[str]:
    parameters = inspect.signature(function).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


# For "did you mean" hints: @deck.task(max_attempt=3) would otherwise be a bare TypeError.
TASK_OPTIONS = _keyword_options(Task.__init__)
PERIODIC_OPTIONS = _keyword_options(JobDeck.periodic)
