"""Tasks: the decorated functions, how they are enqueued, and handles on the jobs they create."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from jobdeck import tracing
from jobdeck.errors import ArgumentsError, ConfigError, JobNotFound
from jobdeck.limits import PayloadLimits, check_name, encode_args, encode_labels, labels_as_text
from jobdeck.settings import check_option_names
from jobdeck.states import JobState, Trigger
from jobdeck.store.base import JobRow, NewJob
from jobdeck.store.limiting import KEY_LABEL, ClaimLimits, Rate

if TYPE_CHECKING:
    from jobdeck.deck import TaskDeck

P = ParamSpec("P")
R = TypeVar("R")

EXECUTORS = ("auto", "thread", "async", "process")
_ACCEPTED_NAMES_KEPT = 64  # argument-name sets remembered per task as already checked
UNIQUE_WHILE = ("active", "pending")


@dataclass(frozen=True)
class JobOptions:
    """Per-enqueue choices; ``Task.options(...)`` builds one with checked names."""

    delay: float | timedelta | None = None
    run_at: datetime | None = None
    priority: int | None = None
    queue: str | None = None
    unique_key: str | None = None
    unique_while: str = "active"
    labels: Mapping[str, Any] = field(default_factory=dict)
    max_attempts: int | None = None
    timeout: float | None = None
    conn: Any = None
    trigger: Trigger = Trigger.CODE
    triggered_by: str | None = None
    schedule: str | None = None
    tick_at: datetime | None = None
    # Jobs sharing a key share its limits (the task's key_concurrency and key_rate_limit).
    concurrency_key: str | None = None
    # Parent jobs (JobHandle objects or ids): the job runs once all of them succeeded.
    after: Iterable[JobHandle | int] = ()

    def __post_init__(self) -> None:
        if self.unique_while not in UNIQUE_WHILE:
            raise ConfigError(
                f"unique_while must be one of {UNIQUE_WHILE}, got {self.unique_while!r}"
            )
        if self.delay is not None and self.run_at is not None:
            raise ConfigError("give delay or run_at, not both")


OPTION_NAMES = [name for name in JobOptions.__dataclass_fields__]


class Task(Generic[P, R]):
    """A function registered with a deck; call it directly or enqueue it to run in a worker."""

    def __init__(
        self,
        deck: TaskDeck,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        queue: str = "default",
        max_attempts: int | None = None,
        timeout: float | None = None,
        priority: int = 0,
        labels: Mapping[str, Any] | None = None,
        executor: str = "auto",
        retry_backoff: float | None = None,
        expected_duration: float | None = None,
        concurrency: int | None = None,
        rate_limit: str | None = None,
        key_concurrency: int | None = None,
        key_rate_limit: str | None = None,
    ) -> None:
        if executor not in EXECUTORS:
            raise ConfigError(f"executor must be one of {EXECUTORS}, got {executor!r}")
        self.deck = deck
        self.fn = fn
        self.name = name or f"{fn.__module__}.{fn.__qualname__}"
        self.queue = queue
        self.max_attempts = max_attempts or deck.settings.default_max_attempts
        if self.max_attempts < 1:
            raise ConfigError(f"task {self.name}: max_attempts must be at least 1")
        self.timeout = timeout if timeout is not None else deck.settings.default_timeout
        self.priority = priority
        self.labels = labels_as_text(labels or {})
        self.is_async = inspect.iscoroutinefunction(fn)
        self.executor = ("async" if self.is_async else "thread") if executor == "auto" else executor
        if self.executor == "async" and not self.is_async:
            raise ConfigError(f"task {self.name}: executor='async' needs an async def function")
        self.retry_backoff = (
            retry_backoff if retry_backoff is not None else deck.settings.backoff_base
        )
        self.expected_duration = expected_duration or deck.settings.expected_duration
        self.concurrency = _positive_limit(self.name, "concurrency", concurrency)
        self.key_concurrency = _positive_limit(self.name, "key_concurrency", key_concurrency)
        self.rate_limit = _rate(self.name, "rate_limit", rate_limit)
        self.key_rate_limit = _rate(self.name, "key_rate_limit", key_rate_limit)
        self._signature = inspect.signature(fn)
        self._accepted_names: set[frozenset[str]] = set()

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name} queue={self.queue}>"

    def options(self, **options: Any) -> BoundTask:
        """Enqueue with per-job options: delay, run_at, priority, queue, unique_key, unique_while,
        labels, max_attempts, timeout, conn, concurrency_key, after."""
        check_option_names(options, OPTION_NAMES, "enqueue option")
        return BoundTask(self, JobOptions(**options))

    def enqueue(self, _conn: Any = None, **kwargs: Any) -> JobHandle:
        """Enqueue one job with the task's arguments; ``after=[job, ...]`` (handles or ids) makes
        it wait for those jobs, unless the function itself takes an argument named ``after``
        (then that argument it is, and ``.options(after=...)`` gives the parents)."""
        return BoundTask(self, JobOptions(conn=_conn)).enqueue(**kwargs)

    def enqueue_many(
        self,
        kwargs_list: Sequence[Mapping[str, Any]],
        _conn: Any = None,
        *,
        after: Iterable[JobHandle | int] = (),
    ) -> list[JobHandle]:
        return BoundTask(self, JobOptions(conn=_conn, after=after)).enqueue_many(kwargs_list)

    def takes_after(self) -> bool:
        """Whether ``after=`` is an argument of the function rather than the parent jobs."""
        return "after" in self._signature.parameters

    async def enqueue_async(self, **kwargs: Any) -> JobHandle:
        import asyncio  # loaded on demand: a worker without async code never imports it

        return await asyncio.to_thread(self.enqueue, **kwargs)

    def check_args(self, kwargs: Mapping[str, Any]) -> None:
        """Refuse arguments the function cannot take, at enqueue rather than in the worker."""
        names = frozenset(kwargs)
        if names in self._accepted_names:
            return  # binding depends on the names alone, never on the values
        try:
            self._signature.bind(**kwargs)
        except TypeError as exc:
            raise ArgumentsError(f"{self.name}: {exc}") from None
        if len(self._accepted_names) < _ACCEPTED_NAMES_KEPT:
            self._accepted_names.add(names)


class BoundTask:
    """A task with options applied; returned by ``Task.options``."""

    def __init__(self, task: Task[..., Any], options: JobOptions) -> None:
        self.task = task
        self.opts = options

    def options(self, **options: Any) -> BoundTask:
        check_option_names(options, OPTION_NAMES, "enqueue option")
        return BoundTask(self.task, replace(self.opts, **options))

    def enqueue(self, **kwargs: Any) -> JobHandle:
        if "after" in kwargs and not self.task.takes_after():
            after = kwargs.pop("after")
            return BoundTask(self.task, replace(self.opts, after=after)).enqueue_many([kwargs])[0]
        return self.enqueue_many([kwargs])[0]

    async def enqueue_async(self, **kwargs: Any) -> JobHandle:
        import asyncio  # loaded on demand: a worker without async code never imports it

        return await asyncio.to_thread(self.enqueue, **kwargs)

    def enqueue_many(self, kwargs_list: Sequence[Mapping[str, Any]]) -> list[JobHandle]:
        """Insert all jobs in one round trip; each handle says whether it is new (``created``).

        Every job is checked against the payload limits first: one refused job (InvalidPayload,
        SerializationError, ArgumentsError) means none of the batch is written.
        """
        deck = self.task.deck
        if not tracing.active(deck.settings.tracing):
            return self._insert(kwargs_list, {})
        queue = self.opts.queue or self.task.queue
        with tracing.publish(self.task.name, queue, len(kwargs_list)) as trace_labels:
            return self._insert(kwargs_list, trace_labels)

    def _insert(
        self, kwargs_list: Sequence[Mapping[str, Any]], trace_labels: dict[str, str]
    ) -> list[JobHandle]:
        limits = PayloadLimits.of(self.task.deck.settings)
        common = self._common_fields(limits, trace_labels)
        jobs = [self._new_job(kwargs, common, limits) for kwargs in kwargs_list]
        deck = self.task.deck
        results = deck.store.insert_jobs(jobs, conn=self.opts.conn)
        return [JobHandle(deck, r.job_id, created=r.created) for r in results]

    def new_job(self, kwargs: Mapping[str, Any]) -> NewJob:
        limits = PayloadLimits.of(self.task.deck.settings)
        return self._new_job(kwargs, self._common_fields(limits), limits)

    def _new_job(
        self, kwargs: Mapping[str, Any], common: dict[str, Any], limits: PayloadLimits
    ) -> NewJob:
        self.task.check_args(kwargs)
        return NewJob(args_json=encode_args(kwargs, limits), **common)

    def _common_fields(
        self, limits: PayloadLimits, trace_labels: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Everything but the arguments: the same for every job of one enqueue call, so its
        names and labels are checked once per call, not once per job."""
        task, opts = self.task, self.opts
        labels = {**task.labels, **labels_as_text(opts.labels), **(trace_labels or {})}
        if opts.concurrency_key is not None:
            labels[KEY_LABEL] = self._concurrency_key(opts.concurrency_key)
        queue = opts.queue or task.queue
        for field_name, value in (
            ("task", task.name),
            ("queue", queue),
            ("unique_key", opts.unique_key),
            ("schedule", opts.schedule),
            ("triggered_by", opts.triggered_by),
        ):
            check_name(value, field_name, limits)
        return {
            "task": task.name,
            "labels_json": encode_labels(labels, limits),
            "queue": queue,
            "priority": task.priority if opts.priority is None else opts.priority,
            "max_attempts": opts.max_attempts or task.max_attempts,
            "timeout": opts.timeout if opts.timeout is not None else task.timeout,
            "run_at": self._run_at(),
            "unique_key": opts.unique_key,
            "unique_while": opts.unique_while,
            "schedule": opts.schedule,
            "tick_at": opts.tick_at,
            "trigger": opts.trigger,
            "triggered_by": opts.triggered_by,
            "after": parent_ids(opts.after),
        }

    def _concurrency_key(self, key: object) -> str:
        task = self.task
        if task.key_concurrency is None and task.key_rate_limit is None:
            raise ConfigError(
                f"task {task.name}: concurrency_key needs key_concurrency= or key_rate_limit= "
                "on the task, the limit each key gets"
            )
        if not isinstance(key, str) or not key:
            raise ConfigError(f"concurrency_key must be non-empty text, got {key!r}")
        return key

    def _run_at(self) -> datetime | None:
        if self.opts.run_at is not None:
            return self.opts.run_at
        if self.opts.delay is None:
            return None
        delay = self.opts.delay
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        return self.task.deck.clock.now() + timedelta(seconds=seconds)


def parent_ids(after: Iterable[JobHandle | int] | None) -> tuple[int, ...]:
    """The ids ``after=`` names: JobHandle objects or whole positive ids, each once."""
    if after is None:
        return ()
    if isinstance(after, JobHandle | int | str):
        after = [after]  # one parent given without a list
    ids: list[int] = []
    for parent in after:
        job_id = parent.id if isinstance(parent, JobHandle) else parent
        if isinstance(job_id, bool) or not isinstance(job_id, int) or job_id < 1:
            raise ConfigError(f"after= takes JobHandle objects or job ids, got {parent!r}")
        if job_id not in ids:
            ids.append(job_id)
    return tuple(ids)


def _positive_limit(task: str, name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"task {task}: {name} must be a whole number, 1 or more: {value!r}")
    return value


def _rate(task: str, name: str, value: str | None) -> Rate | None:
    if value is None:
        return None
    try:
        return Rate.parse(value)
    except ConfigError as exc:
        raise ConfigError(f"task {task}: {name}: {exc}") from None


def claim_limits(tasks: Iterable[Task[..., Any]], queue_limits: Mapping[str, int]) -> ClaimLimits:
    """The limits a deck declares, as its workers' claims enforce them."""
    tasks = list(tasks)
    return ClaimLimits(
        queues=dict(queue_limits),
        tasks={t.name: t.concurrency for t in tasks if t.concurrency is not None},
        per_key={t.name: t.key_concurrency for t in tasks if t.key_concurrency is not None},
        task_rates={t.name: t.rate_limit for t in tasks if t.rate_limit is not None},
        key_rates={t.name: t.key_rate_limit for t in tasks if t.key_rate_limit is not None},
    )


class JobHandle:
    """A job by id: ``state``, ``refresh()``, ``wait(timeout)`` and the row's fields."""

    def __init__(
        self, deck: TaskDeck, job_id: int, *, created: bool = True, row: JobRow | None = None
    ):
        self.deck = deck
        self.id = job_id
        self.created = created
        self._row = row

    def __repr__(self) -> str:
        state = self._row.state if self._row else "?"
        return f"<JobHandle {self.id} {state}>"

    @property
    def row(self) -> JobRow:
        if self._row is None:
            self.refresh()
        assert self._row is not None
        return self._row

    @property
    def state(self) -> JobState:
        return self.row.state

    @property
    def result(self) -> Any:
        return self.row.result

    @property
    def error(self) -> str | None:
        return self.row.error

    def refresh(self) -> JobHandle:
        row = self.deck.store.get_job(self.id)
        if row is None:
            raise JobNotFound(f"job {self.id} does not exist (pruned or never created)")
        self._row = row
        return self

    def wait(self, timeout: float = 30.0, poll: float = 0.05) -> JobHandle:
        """Block until the job is succeeded, failed or cancelled; TimeoutError past ``timeout``."""
        deadline = time.monotonic() + timeout
        while not self.refresh().state.is_final:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {self.id} is still {self.state} after {timeout} s")
            time.sleep(poll)
        return self
