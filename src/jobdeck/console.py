"""The ``jobdeck`` program: the CLI over a plain `JobDeck` when --app names no deck, with the
commands of the documents plugin and the demo added.

``jobdeck.cli`` sits below the facade and never imports it, nor contrib or the demo above it;
this module, at the top, is where they meet. The console script and ``python -m jobdeck`` run
``run``.
"""

from __future__ import annotations

import click

from jobdeck import cli
from jobdeck.app import JobDeck
from jobdeck.cli.context import log_format_option
from jobdeck.logs import setup_logging
from jobdeck.settings import Settings


# Here rather than in jobdeck.demo: that package needs the demo's extras once imported, and
# the program must start (and say which extra is missing) without them.
@click.group(invoke_without_command=True)
@click.option(
    "--database",
    default=None,
    metavar="URL",
    help="Default: SQLite in ./demo-data/jobdeck.db; or postgresql://...",
)
@click.option("--reset", is_flag=True, help="Start over with empty demo data.")
@click.option("--no-traffic", is_flag=True, help="Do not enqueue example jobs continuously.")
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Worker processes (the first runs in this process).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@log_format_option
@click.pass_context
def demo(
    click_ctx: click.Context,
    database: str | None,
    reset: bool,
    no_traffic: bool,
    workers: int,
    host: str,
    port: int,
    duration: float | None,
    log_format: str | None,
) -> None:
    """Run the demo: worker, scheduler, dashboard and a mail server, on both guides' jobs."""
    if click_ctx.invoked_subcommand is not None:
        return
    from jobdeck.demo.run import DemoOptions, run_demo

    setup_logging("INFO", log_format or Settings.build().log_format)
    run_demo(DemoOptions(database, reset, not no_traffic, duration, workers, host, port))


@demo.command("mail")
@click.option("--database", default=None, metavar="URL")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
def demo_mail(database: str | None, limit: int) -> None:
    """The emails the demo's jobs sent to its SMTP server."""
    from jobdeck.demo.app import db, deck
    from jobdeck.demo.mail import recent_mail
    from jobdeck.demo.run import DEMO_FOLDER

    deck.use_database(database or f"sqlite:///{DEMO_FOLDER / 'jobdeck.db'}")
    for message in reversed(recent_mail(db(), limit)):
        click.echo(f"{message['received_at']}  to {message['recipients']}: {message['subject']}")


cli.main.add_command(demo)
# A plugin's group, attached like the built-in ones and as lazily: a worker never loads it.
cli.main.add_lazy_command("documents", "jobdeck.contrib.documents.cli:documents")
main = cli.with_bare_deck(cli.main, JobDeck)


def run(args: list[str] | None = None, prog_name: str | None = None) -> None:
    """``jobdeck ARGS``, with one-line errors (``jobdeck.cli.run``)."""
    cli.run(main, args, prog_name)
