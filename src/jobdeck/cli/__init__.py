"""The ``jobdeck`` command: the root group over one module per command group, and ``run``.

``jobdeck.cli.context`` holds what the commands share; ``jobdeck.cli.views`` the tables and the
``--json`` documents they print. The program users run is ``jobdeck.console``: this package
sits below the facade, so it is handed the deck to build when --app names none, and the
console adds the commands of contrib and the demo.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TypeVar

import click

from jobdeck.cli.context import BareDeck, Context, one_line_errors
from jobdeck.cli.lazy import LazyGroup
from jobdeck.cli.workers import settings_command, worker, workers_command
from jobdeck.deck import Deck

__all__ = ["BareDeck", "Context", "LazyGroup", "main", "run", "with_bare_deck", "worker"]

C = TypeVar("C", bound=click.Command)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jobdeck")
def main() -> None:
    """jobdeck: durable background jobs on SQLite or PostgreSQL."""


# The worker's own commands are loaded with it; every other group's module when it is run (or
# help lists it), so a worker process does not carry the control layer for commands it never runs.
for _command in (worker, workers_command, settings_command):
    main.add_command(_command)
for _name, _target in {
    "queues": "jobdeck.cli.queues:queues",
    "enqueue": "jobdeck.cli.jobs:enqueue",
    "jobs": "jobdeck.cli.jobs:jobs",
    "db": "jobdeck.cli.jobs:db",
    "errors": "jobdeck.cli.errors:errors",
    "dashboard": "jobdeck.cli.dashboard:dashboard",
    "scheduler": "jobdeck.cli.schedules:scheduler",
    "schedules": "jobdeck.cli.schedules:schedules",
    "alerts": "jobdeck.cli.schedules:alerts",
    "users": "jobdeck.cli.accounts:users",
    "tokens": "jobdeck.cli.accounts:tokens",
    "stats": "jobdeck.cli.stats:stats_command",
}.items():
    main.add_lazy_command(_name, _target)


def with_bare_deck(command: C, build: Callable[[str], Deck]) -> C:
    """``command`` building ``build(url)`` as the deck of a run without --app; its subcommands
    and options stay shared with ``command``.

    >>> main = with_bare_deck(jobdeck.cli.main, JobDeck)  # what jobdeck.console does
    """
    bound = copy.copy(command)
    bound.context_settings = {**command.context_settings, "obj": BareDeck(build)}
    return bound


def run(
    command: click.Command | None = None,
    args: list[str] | None = None,
    prog_name: str | None = None,
) -> None:
    """Entry point with one-line errors instead of tracebacks for problems users can fix;
    ``command``/``args`` let another front end (manage.py jobdeck_worker) share it.

    A command run without --app needs a `BareDeck` (``with_bare_deck``); ``jobdeck.console.run``
    is this with ``JobDeck``."""
    with one_line_errors():
        (command or main).main(args=args, prog_name=prog_name, standalone_mode=False)
