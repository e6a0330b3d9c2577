"""``jobdeck dashboard``: serve the dashboard over a database."""

from __future__ import annotations

import logging

import click

from jobdeck.cli.context import (
    Context,
    command_line_settings,
    common_options,
    logging_options,
)
from jobdeck.errors import ConfigError
from jobdeck.extras import require_extra
from jobdeck.logs import setup_logging


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
