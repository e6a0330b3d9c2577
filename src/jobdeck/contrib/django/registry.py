"""Django task functions as jobdeck tasks: one jobdeck task per Django ``@task``, named by its
module path, that a worker runs with Django's database connections handled as a request would."""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Iterable
from typing import Any

from django.apps import apps  # type: ignore[import-not-found]
from django.db import close_old_connections  # type: ignore[import-not-found]
from django.tasks import Task as DjangoTask  # type: ignore[import-not-found]
from django.utils.module_loading import module_has_submodule  # type: ignore[import-not-found]

from jobdeck.app import JobDeck
from jobdeck.tasks import Task

_register_lock = threading.Lock()


def jobdeck_task(deck: JobDeck, django_task: DjangoTask) -> Task[..., Any]:
    """The jobdeck task that runs ``django_task`` (registered on ``deck`` on first use).

    Its arguments are ``args`` (a list) and ``kwargs`` (an object), so Django's positional
    arguments survive; its name is Django's ``module_path``, which is what the dashboard shows.
    """
    name = django_task.module_path
    found = deck.tasks.get(name)
    if found is not None:
        return found
    # Two request threads may enqueue a task for the first time at once: register it once.
    with _register_lock:
        found = deck.tasks.get(name)
        if found is not None:
            return found
        return deck.task(name=name, queue=django_task.queue_name, priority=django_task.priority)(
            _runner(django_task.func)
        )


def _runner(func: Any) -> Any:
    if inspect.iscoroutinefunction(func):

        async def run_async(*, args: list[Any], kwargs: dict[str, Any]) -> Any:
            return await func(*args, **kwargs)

        return run_async

    def run(*, args: list[Any], kwargs: dict[str, Any]) -> Any:
        # Each job is a unit of work like a request: connections that are broken or older than
        # CONN_MAX_AGE are closed before and after, so a worker thread never holds one forever.
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return run


def discover_tasks(alias: str, extra_modules: Iterable[str] = ()) -> list[DjangoTask]:
    """The Django tasks of backend ``alias``: found in each installed app's ``tasks`` module (the
    convention Django's docs use) and in ``extra_modules``, imported here as the worker starts."""
    modules = [
        importlib.import_module(f"{config.name}.tasks")
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, "tasks")
    ]
    modules += [importlib.import_module(name) for name in extra_modules]
    found: dict[str, DjangoTask] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, DjangoTask) and value.backend == alias:
                found.setdefault(value.module_path, value)
    return list(found.values())
