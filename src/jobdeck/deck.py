"""What each layer needs of the deck, as protocols, so nothing below the facade imports it.

`jobdeck.app.JobDeck` satisfies both. A task needs only `TaskDeck`; the worker, the control
layer, the web and the CLI take a `Deck`, which adds the registry of tasks and schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from jobdeck.clock import Clock
from jobdeck.settings import Settings
from jobdeck.store.base import Store

if TYPE_CHECKING:
    from jobdeck.schedules import Schedule
    from jobdeck.tasks import Task


class TaskDeck(Protocol):
    """What a task needs to enqueue and look up its jobs."""

    @property
    def store(self) -> Store: ...

    clock: Clock
    settings: Settings


class Deck(TaskDeck, Protocol):
    """A deck with its registry: what the worker, control, web and CLI layers work with."""

    tasks: dict[str, Task[..., Any]]
    schedules: dict[str, Schedule]
    database_url: str
    database_url_source: str

    def task(self, fn: None = None, /, **options: Any) -> Callable[[Callable[..., Any]], Any]: ...

    def get_task(self, name: str) -> Task[..., Any]: ...

    def use_database(self, url: str, source: str = ...) -> None: ...

    def asgi(self, *, authorize: Any = None, **options: Any) -> Any: ...

    def close(self) -> None: ...
