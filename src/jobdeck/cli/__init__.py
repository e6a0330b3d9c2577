"""The ``jobdeck`` command: the root group over one module per command group, and ``run``.

``jobdeck.cli.context`` holds what the commands share; ``jobdeck.cli.views`` the tables and the
``--json`` documents they print.
"""

from __future__ import annotations

import click

from jobdeck.cli.accounts import tokens, users
from jobdeck.cli.context import Context, one_line_errors
from jobdeck.cli.dashboard import dashboard, demo
from jobdeck.cli.jobs import db, enqueue, jobs
from jobdeck.cli.schedules import alerts, scheduler, schedules
from jobdeck.cli.workers import settings_command, worker, workers_command
from jobdeck.contrib.documents.cli import documents

__all__ = ["Context", "main", "run", "worker"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jobdeck")
def main() -> None:
    """jobdeck: durable background jobs on SQLite or PostgreSQL."""


for _command in (
    worker,
    workers_command,
    settings_command,
    enqueue,
    jobs,
    dashboard,
    scheduler,
    schedules,
    alerts,
    users,
    tokens,
    db,
    demo,
    documents,  # a plugin's group, attached like the built-in ones
):
    main.add_command(_command)


def run(
    command: click.Command | None = None,
    args: list[str] | None = None,
    prog_name: str | None = None,
) -> None:
    """Entry point with one-line errors instead of tracebacks for problems users can fix;
    ``command``/``args`` let another front end (manage.py jobdeck_worker) share it."""
    with one_line_errors():
        (command or main).main(args=args, prog_name=prog_name, standalone_mode=False)
