"""``jobdeck dashboard`` and ``jobdeck demo``: serve the dashboard over a database, or run the
whole demo (worker, scheduler, dashboard and mail) on its own."""

from __future__ import annotations

import logging

import click

from jobdeck.cli.context import (
    Context,
    command_line_settings,
    common_options,
    log_format_option,
    logging_options,
)
from jobdeck.errors import ConfigError
from jobdeck.extras import require_extra
from jobdeck.logs import setup_logging
from jobdeck.settings import Settings


@click.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--no-login",
    is_flag=True,
    help="No sign-in: whoever reaches it operates it (refused unless on localhost).",
)
@logging_options
def dashboard(
    ctx: Context, host: str, port: int, no_login: bool, log_level: str, log_format: str | None
) -> None:
    """Serve the monitoring dashboard (sign in with `jobdeck users add` accounts)."""
    require_extra("dashboard", "jobdeck dashboard")
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from jobdeck.web.access import local_operator

    if no_login and host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(
            "--no-login is only allowed with --host 127.0.0.1 (anyone could operate it)"
        )
    log_format = command_line_settings(ctx, log_format=log_format).log_format
    setup_logging(log_level, log_format)
    ctx.deck.store.check_schema()
    started = f"jobdeck dashboard on http://{host}:{port}/ ({ctx.deck.database_url})"
    if log_format == "json":
        logging.getLogger("jobdeck.dashboard").info(started)
    else:
        click.echo(started)
    app = ctx.deck.asgi(authorize=local_operator if no_login else None)
    # uvicorn believes X-Forwarded-* from 127.0.0.1 by default; jobdeck decides itself, from
    # the trusted_proxies setting (none by default), so that the mounted app behaves the same.
    # In JSON, uvicorn's loggers go through jobdeck's handler (log_config=None) instead of the
    # text handlers uvicorn would install on them.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        proxy_headers=False,
        log_config=None if log_format == "json" else LOGGING_CONFIG,
    )


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
