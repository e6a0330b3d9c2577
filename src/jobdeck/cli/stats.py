"""``jobdeck stats``: the Jobs page's numbers for a period: attempts, failures, and the wait
and duration percentiles per task, from the rollups."""

from __future__ import annotations

from dataclasses import asdict

import click

from jobdeck import control
from jobdeck.cli.context import Context, common_options, json_option
from jobdeck.control.latency import Percentiles


@click.command("stats")
@common_options
@click.option(
    "--period",
    type=click.Choice(list(control.PERIODS)),
    default=control.DEFAULT_PERIOD,
    show_default=True,
)
@json_option
def stats_command(ctx: Context, period: str, as_json: bool) -> None:
    """Attempts and p50/p95/p99 of wait (due to start) and duration per task (--json: one
    document, times in ms)."""
    from jobdeck.cli.views import print_json

    read = control.stats(ctx.deck.store, ctx.deck.clock, period)
    if as_json:
        return print_json(_document(read))
    _table(read)


def _document(read: control.Stats) -> dict[str, object]:
    return {
        "period": read.period,
        "since": read.since,
        "until": read.until,
        "succeeded": read.succeeded,
        "failed": read.failed,
        "latency_error": read.latency_error,
        "overall": asdict(read.latency.overall),
        "by_task": [
            {
                "task": row.key,
                "succeeded": row.succeeded,
                "failed": row.failed,
                **asdict(read.latency.of_task(row.key)),
            }
            for row in read.by_task
        ],
    }


def _table(read: control.Stats) -> None:
    from rich.table import Table

    from jobdeck.cli.views import console

    title = (
        f"last {read.period}: {read.total} attempts, {read.failed} failed "
        f"(percentiles within {read.latency_error:.0%})"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("task")
    for name in ("attempts", "failed", "wait p50", "p95", "p99", "duration p50", "p95", "p99"):
        table.add_column(name, justify="right")
    for row in read.by_task:
        latency = read.latency.of_task(row.key)
        table.add_row(
            row.key,
            str(row.total),
            str(row.failed),
            *_cells(latency.wait),
            *_cells(latency.duration),
        )
    overall = read.latency.overall
    table.add_row(
        "all tasks",
        str(read.total),
        str(read.failed),
        *_cells(overall.wait),
        *_cells(overall.duration),
        style="bold",
    )
    console.print(table)


def _cells(percentiles: Percentiles) -> list[str]:
    from jobdeck.cli.views import milliseconds

    return [milliseconds(v) for v in (percentiles.p50, percentiles.p95, percentiles.p99)]
