"""``jobdeck scheduler``, ``jobdeck schedules`` and ``jobdeck alerts``: the cron loop alone,
the schedules it keeps (list, show, run, pause, resume), and the alerts they raise."""

from __future__ import annotations

import click

from jobdeck.cli.context import (
    Context,
    command_line_settings,
    common_options,
    json_option,
    logging_options,
    reason_option,
    subcommand,
)
from jobdeck.errors import ConfigError
from jobdeck.logs import setup_logging


@click.command()
@common_options
@logging_options
def scheduler(ctx: Context, log_level: str, log_format: str | None) -> None:
    """Run only the scheduler loop (enqueue due ticks; run no jobs)."""
    from jobdeck.worker.scheduler import run_scheduler

    if not ctx.app_ref:
        raise ConfigError("jobdeck scheduler needs --app module:deck so it knows your schedules")
    setup_logging(log_level, command_line_settings(ctx, log_format=log_format).log_format)
    run_scheduler(ctx.deck)


@click.group()
def schedules() -> None:
    """List, run, pause and resume periodic schedules."""


@schedules.command("list")
@common_options
@json_option
def schedules_list(ctx: Context, as_json: bool) -> None:
    """Each schedule with frequency, status, last and next run, and staleness."""
    from jobdeck.cli.views import print_json, schedules_json, schedules_table
    from jobdeck.control.schedules import schedule_statuses

    statuses = schedule_statuses(ctx.deck)
    if as_json:
        return print_json(schedules_json(statuses))
    schedules_table(statuses, ctx.deck.clock.now())


@subcommand(schedules, "show", "name")
@click.option("--runs", type=click.IntRange(1, 100), default=10, show_default=True)
@json_option
def schedules_show(ctx: Context, name: str, runs: int, as_json: bool) -> None:
    """One schedule and its last runs."""
    from jobdeck.cli.views import print_json, schedule_json, schedule_panel
    from jobdeck.control.schedules import recent_runs, schedule_status

    status = schedule_status(ctx.deck, name)
    last_runs = recent_runs(ctx.deck, name, runs)
    if as_json:
        return print_json(schedule_json(status, last_runs))
    schedule_panel(status, last_runs, ctx.deck.clock.now())


@subcommand(schedules, "run", "name")
@reason_option
@click.option(
    "--confirm",
    is_flag=True,
    help="Run again although the last manual run finished within the cooldown "
    "(never while one is queued or running).",
)
def schedules_run(ctx: Context, name: str, reason: str | None, confirm: bool) -> None:
    """Run NAME now, once: while a manual run is queued or running, or for the schedule's
    cooldown after it finished (10 s unless declared otherwise), says so and runs nothing."""
    from jobdeck.control import cli_actor, run_now

    result = run_now(ctx.deck, name, cli_actor(), reason=reason, confirm=confirm)
    if result.refused == "cooldown":
        click.echo(f"{name}: {result.message.replace('confirm', 'pass --confirm', 1)}")
    else:
        click.echo(f"{name}: {result.message}")


@subcommand(schedules, "pause", "name")
@reason_option
def schedules_pause(ctx: Context, name: str, reason: str | None) -> None:
    """Stop enqueuing ticks of NAME until resumed."""
    from jobdeck.control import cli_actor, set_paused

    set_paused(ctx.deck, name, True, cli_actor(), reason=reason)
    click.echo(f"{name}: paused")


@subcommand(schedules, "resume", "name")
@reason_option
def schedules_resume(ctx: Context, name: str, reason: str | None) -> None:
    """Resume a paused schedule (missed ticks follow its catch-up policy)."""
    from jobdeck.control import cli_actor, set_paused

    set_paused(ctx.deck, name, False, cli_actor(), reason=reason)
    click.echo(f"{name}: resumed")


@click.command()
@common_options
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@json_option
def alerts(ctx: Context, limit: int, as_json: bool) -> None:
    """Recent alert events (stale schedules, jobs out of retries, recoveries)."""
    from jobdeck.cli.views import alerts_table, print_rows, rows_json

    print_rows(ctx.deck.store.list_alerts(limit), as_json, alerts_table, rows_json)
