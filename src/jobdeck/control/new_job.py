"""Creating a job by hand: the dashboard's New job form, ``POST /api/jobs`` and ``jobdeck jobs
enqueue``. The arguments are checked against the task's form (types from its signature), then
by the task's own enqueue (binding, payload limits); the creation is audited as ``enqueue``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobdeck.auditlog import Actor
from jobdeck.control.audit import audited
from jobdeck.control.history import MAX_REASON
from jobdeck.errors import ArgumentError, UnknownTask
from jobdeck.states import Trigger
from jobdeck.taskform import TaskForm, form_of
from jobdeck.tasks import JobHandle

if TYPE_CHECKING:
    from jobdeck.deck import Deck
    from jobdeck.tasks import Task

MAX_DELAY = 366 * 24 * 3600  # seconds: a job meant for next year is a schedule, not a delay
MAX_PRIORITY = 2**31 - 1  # PostgreSQL's integer column
MAX_PARENTS = 100  # jobs one job made by hand may run after
NO_APP_CODE = (
    "This dashboard runs without your application's code (started without --app), so it "
    "knows no task's arguments and cannot check them: start it with "
    "`jobdeck dashboard --app module:deck`, or use `jobdeck jobs enqueue TASK --args '{...}'`."
)
_NAMES_LISTED = 10


@dataclass(frozen=True)
class NewJobRequest:
    """What a person asks for: the arguments, and optionally a delay in seconds, a priority
    (the task's own when None), labels added to the task's and the ids of jobs it runs after."""

    args: Mapping[str, Any] = field(default_factory=dict)
    delay: float | None = None
    priority: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    after: tuple[int, ...] = ()


def has_app_code(deck: Deck) -> bool:
    """False for a deck built from a database URL alone (``jobdeck dashboard`` without
    ``--app``): it has no task registered, so nothing to build a form from."""
    return bool(deck.tasks)


def task_to_create(deck: Deck, name: str) -> Task[..., Any]:
    """The registered task ``name``, or UnknownTask saying why it cannot be created here."""
    if not has_app_code(deck):
        raise UnknownTask(NO_APP_CODE)
    task = deck.tasks.get(name)
    if task is None:
        known = sorted(deck.tasks)
        listed = ", ".join(known[:_NAMES_LISTED]) + (", …" if len(known) > _NAMES_LISTED else "")
        raise UnknownTask(f"Unknown task {name[:100]!r}; this deck's tasks are: {listed}")
    return task


def task_form(task: Task[..., Any]) -> TaskForm:
    return form_of(task.name, task.fn)


def create_job(
    deck: Deck,
    task: Task[..., Any],
    request: NewJobRequest,
    actor: Actor,
    *,
    reason: str | None = None,
    form: TaskForm | None = None,
) -> JobHandle:
    """Check and enqueue one job of ``task`` as ``actor`` (trigger ``manual``), audited as
    ``enqueue`` on ``task <name>`` with the new job's id; a refusal is audited too.

    ``form`` None skips the type check: a task known only by name (the CLI without --app)
    has no signature to check against, and its worker will say what it thinks.
    """

    reason = _checked_reason(reason)  # before audited(): a refused novel is not stored

    def enqueue() -> JobHandle:
        check_options(request)
        if form is not None:
            form.check(request.args)
        options: dict[str, Any] = {
            "trigger": Trigger.MANUAL,
            "triggered_by": actor.name,
            "delay": request.delay or None,
            "priority": request.priority,
            "labels": request.labels,
            "after": request.after,
        }
        return task.options(**options).enqueue(**request.args)

    def details(handle: JobHandle) -> dict[str, Any]:
        # The arguments stay out of the audit row: they may hold what a deck keeps secret.
        recorded: dict[str, Any] = {"job_id": handle.id}
        if request.delay:
            recorded["delay"] = request.delay
        if request.priority is not None:
            recorded["priority"] = request.priority
        if request.labels:
            recorded["labels"] = dict(request.labels)
        if request.after:
            recorded["after"] = list(request.after)
        return recorded

    return audited(
        deck.store,
        deck.clock,
        actor,
        "enqueue",
        f"task {task.name}",
        enqueue,
        details=details,
        reason=reason,
    )


def _checked_reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise ArgumentError("reason", f"{len(text)} characters long; at most {MAX_REASON}")
    return text or None


def check_options(request: NewJobRequest) -> None:
    delay, priority = request.delay, request.priority
    if delay is not None and not 0 <= delay <= MAX_DELAY:
        raise ArgumentError("delay", f"must be between 0 and {MAX_DELAY} seconds (366 days)")
    if priority is not None and not -MAX_PRIORITY <= priority <= MAX_PRIORITY:
        raise ArgumentError("priority", f"must be between {-MAX_PRIORITY} and {MAX_PRIORITY}")
    for key in request.labels:
        if not key.strip():
            raise ArgumentError("labels", "a label needs a name before its '='")
    if len(request.after) > MAX_PARENTS:
        raise ArgumentError("after", f"{len(request.after)} parent jobs; at most {MAX_PARENTS}")
