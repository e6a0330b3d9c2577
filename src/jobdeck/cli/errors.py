"""``jobdeck errors``: failures grouped by fingerprint (list, show), and the audited
"retry all in this group", mute and unmute, as the Failures view offers them."""

from __future__ import annotations

from dataclasses import asdict

import click

from jobdeck import control
from jobdeck.cli.context import Context, common_options, json_option, reason_option, subcommand
from jobdeck.store.base import ErrorGroupRow

PERIOD_CHOICES = click.Choice(list(control.PERIODS))


@click.group(invoke_without_command=True)
@click.pass_context
@click.option("--database", metavar="URL", help="As for `jobdeck errors list`.")
@click.option("--app", metavar="MODULE:DECK", help="As for `jobdeck errors list`.")
@click.option("--period", type=PERIOD_CHOICES, default=None)
@click.option("--muted", is_flag=True, default=None)
@json_option
def errors(click_ctx: click.Context, /, **list_options: object) -> None:
    """Failures grouped by error: list (the default: `jobdeck errors` is `jobdeck errors
    list`, with its options), show, retry, mute, unmute."""
    given = {name: value for name, value in list_options.items() if value}
    if click_ctx.invoked_subcommand is None:
        click_ctx.invoke(errors_list, **given)
    elif given:
        names = ", ".join(f"--{name.replace('as_', '')}" for name in given)
        raise click.UsageError(f"{names}: give them after the subcommand")


@errors.command("list")
@common_options
@click.option("--period", type=PERIOD_CHOICES, default=control.DEFAULT_PERIOD, show_default=True)
@click.option("--muted", is_flag=True, help="Include muted groups.")
@json_option
def errors_list(
    ctx: Context, period: str = control.DEFAULT_PERIOD, muted: bool = False, as_json: bool = False
) -> None:
    """Error groups of the period, most failures first (--json: {"groups": [...]})."""
    found = control.failures(ctx.deck.store, ctx.deck.clock, period, include_muted=muted)
    if as_json:
        from jobdeck.cli.views import print_json

        return print_json(
            {
                "period": found.period,
                "since": found.since,
                "until": found.until,
                "bucket_seconds": found.bucket_seconds,
                "groups": [
                    {**_group_json(g.group), "sparkline": g.sparkline} for g in found.groups
                ],
            }
        )
    _groups_table([g.group for g in found.groups], period)


@subcommand(errors, "show", "fingerprint")
@json_option
def errors_show(ctx: Context, fingerprint: str, as_json: bool) -> None:
    """One group with its all-time counts and its first failure's traceback."""
    from rich.panel import Panel
    from rich.text import Text

    from jobdeck.cli.views import console, print_json, short_time

    group = control.error_group(ctx.deck.store, fingerprint)
    if as_json:
        return print_json(_group_json(group))
    facts = Text()
    for label, value in (
        ("exception", group.exception),
        ("message", group.title),
        ("frame", group.frame or "-"),
        ("failures", f"{group.failures:,} in {group.tasks} task(s)"),
        ("first seen", f"{short_time(group.first_seen)} in {group.task}"),
        ("last seen", short_time(group.last_seen)),
        ("muted", f"by {group.muted_by}" if group.muted else "no"),
        ("sample", f"job {group.sample_job_id}: {group.sample_error}"),
    ):
        facts.append(f"{label:>11}  ", style="dim")
        facts.append(f"{value}\n")
    console.print(Panel(facts, title=f"error group {group.fingerprint}"))
    if group.sample_traceback:
        console.print(Panel(Text(group.sample_traceback), title="sample traceback"))


@subcommand(errors, "retry", "fingerprint")
@reason_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def errors_retry(ctx: Context, fingerprint: str, reason: str | None, yes: bool) -> None:
    """Run again now every failed or retrying job whose latest failure is in the group."""
    store = ctx.deck.store
    count = control.retryable_in_group(store, fingerprint)
    if not count:
        click.echo(f"error group {fingerprint}: no failed or retrying job to retry")
        return
    if not yes:
        click.confirm(f"Retry {count:,} job{'s' if count != 1 else ''}?", abort=True)
    retried = control.retry_error_group(
        store, ctx.deck.clock, fingerprint, control.cli_actor(), reason=reason
    )
    click.echo(f"error group {fingerprint}: {retried:,} job{'s' if retried != 1 else ''} retried")


@subcommand(errors, "mute", "fingerprint")
@reason_option
def errors_mute(ctx: Context, fingerprint: str, reason: str | None) -> None:
    """Hide the group from the Failures view by default and never alert on it."""
    deck = ctx.deck
    control.mute_error_group(
        deck.store, deck.clock, fingerprint, control.cli_actor(), reason=reason
    )
    click.echo(f"error group {fingerprint}: muted")


@subcommand(errors, "unmute", "fingerprint")
@reason_option
def errors_unmute(ctx: Context, fingerprint: str, reason: str | None) -> None:
    """Show and alert on the group again."""
    deck, actor = ctx.deck, control.cli_actor()
    control.mute_error_group(deck.store, deck.clock, fingerprint, actor, muted=False, reason=reason)
    click.echo(f"error group {fingerprint}: unmuted")


def _group_json(group: ErrorGroupRow) -> dict[str, object]:
    return {**asdict(group), "muted": group.muted}


def _groups_table(groups: list[ErrorGroupRow], period: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from jobdeck.cli.views import console, short_time

    table = Table(show_edge=False, header_style="bold")
    for column in ("Fingerprint", "Failures", "Tasks", "Error", "Frame", "First seen", "Last"):
        table.add_column(column, overflow="fold")
    for group in groups:
        error = Text(f"{group.exception}: {group.title}")
        if group.muted:
            error.append(" (muted)", style="dim")
        table.add_row(
            group.fingerprint,
            f"{group.failures:,}",
            str(group.tasks),
            error,
            Text(group.frame or "-"),
            short_time(group.first_seen),
            short_time(group.last_seen),
        )
    console.print(table if groups else f"no failures in the last {period}")
