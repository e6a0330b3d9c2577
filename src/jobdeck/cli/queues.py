"""``jobdeck queues``: each queue's backlog, latency and period counts; pause and resume."""

from __future__ import annotations

import click

from jobdeck.cli.context import Context, common_options, json_option, reason_option, subcommand
from jobdeck.control.stats import DEFAULT_PERIOD, PERIODS


@click.group("queues", invoke_without_command=True)
@common_options
@click.option(
    "--period", type=click.Choice(list(PERIODS)), default=DEFAULT_PERIOD, show_default=True
)
@json_option
def queues(ctx: Context, period: str, as_json: bool) -> None:
    """Each queue with pending, scheduled, running and retrying jobs, latency, what finished
    and failed in --period, and the workers serving it; subcommands pause and resume."""
    from jobdeck.cli.views import print_json, queues_json, queues_table
    from jobdeck.control.fleet import queues_overview

    if click.get_current_context().invoked_subcommand is not None:
        return
    overview = queues_overview(ctx.deck, period)
    if as_json:
        return print_json(queues_json(overview))
    queues_table(overview)


@subcommand(queues, "pause", "name")
@reason_option
def queues_pause(ctx: Context, name: str, reason: str | None) -> None:
    """Stop every worker claiming from NAME (within a heartbeat); running jobs finish."""
    from jobdeck.control import cli_actor
    from jobdeck.control.fleet import pause_queue

    changed = pause_queue(ctx.deck, name, cli_actor(), reason=reason)
    click.echo(f"{name.strip()}: paused" if changed else f"{name.strip()}: already paused")


@subcommand(queues, "resume", "name")
@reason_option
def queues_resume(ctx: Context, name: str, reason: str | None) -> None:
    """Let workers claim from NAME again (within a heartbeat)."""
    from jobdeck.control import cli_actor
    from jobdeck.control.fleet import resume_queue

    changed = resume_queue(ctx.deck, name, cli_actor(), reason=reason)
    click.echo(f"{name.strip()}: resumed" if changed else f"{name.strip()}: was not paused")
