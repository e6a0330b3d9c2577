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

from jobdeck.cli.accounts import tokens, users
from jobdeck.cli.context import BareDeck, Context, one_line_errors
from jobdeck.cli.dashboard import dashboard
from jobdeck.cli.errors import errors
from jobdeck.cli.jobs import db, enqueue, jobs
from jobdeck.cli.queues import queues
from jobdeck.cli.schedules import alerts, scheduler, schedules
from jobdeck.cli.stats import stats_command
from jobdeck.cli.workers import settings_command, worker, workers_command
from jobdeck.deck import Deck

__all__ = ["BareDeck", "Context", "main", "run", "with_bare_deck", "worker"]

C = TypeVar("C", bound=click.Command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jobdeck")
def main() -> None:
    """jobdeck: durable background jobs on SQLite or PostgreSQL."""


for _command in (
    worker,
    workers_command,
    queues,
    settings_command,
    enqueue,
    jobs,
    errors,
    dashboard,
    scheduler,
    schedules,
    alerts,
    users,
    tokens,
    db,
    stats_command,
):
    main.add_command(_command)


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
