"""``jobdeck worker``, ``jobdeck workers`` and ``jobdeck settings``: run a worker, list the
workers that report in, and show the settings a worker given the same options would use."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta

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
from jobdeck.settings import COMMAND_LINE


@click.command()
@common_options
@click.option("--queues", "-q", default=None, help="Comma-separated queues (default: default).")
@click.option("--concurrency", "-c", type=int, default=None, help="Jobs run at once (default 10).")
@click.option("--no-scheduler", is_flag=True, help="Do not run the cron loop in this worker.")
@click.option(
    "--name",
    default=None,
    help="The host name this worker reports (default: this machine's); its id starts with it.",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics (metrics_host to "
    "bind elsewhere); needs jobdeck[metrics].",
)
@logging_options
def worker(
    ctx: Context,
    queues: str | None,
    concurrency: int | None,
    no_scheduler: bool,
    name: str | None,
    metrics_port: int | None,
    log_level: str,
    log_format: str | None,
) -> None:
    """Run a worker for the tasks of --app (with the scheduler loop unless --no-scheduler)."""
    from jobdeck.worker import Worker

    if not ctx.app_ref:
        raise ConfigError("jobdeck worker needs --app module:deck so it knows your tasks")
    if name is not None and not name.strip():
        raise ConfigError("--name must not be empty")
    settings = command_line_settings(ctx, queues, concurrency, no_scheduler, log_format)
    if metrics_port is not None:
        settings = settings.overridden(COMMAND_LINE, metrics_port=metrics_port)
    setup_logging(log_level, settings.log_format)
    reason = Worker(ctx.deck, settings, name=name.strip() if name else None).run()
    if reason == "restart":
        os.execv(sys.executable, [sys.executable, *sys.argv])


@click.group("workers", invoke_without_command=True)
@common_options
@click.option("--all", "show_all", is_flag=True, help="Also workers silent for more than a day.")
@json_option
def workers_command(ctx: Context, show_all: bool, as_json: bool) -> None:
    """Workers with their host, state, last heartbeat and clock offset from the database;
    ``jobdeck workers stop ID`` drains one."""
    from jobdeck.cli.views import print_json, rows_json, workers_table

    if click.get_current_context().invoked_subcommand is not None:
        return
    now = ctx.deck.clock.now()
    since = None if show_all else now - timedelta(days=1)
    workers = ctx.deck.store.list_workers(since=since)
    if as_json:
        return print_json(rows_json(workers))
    workers_table(workers, now, ctx.deck.settings.clock_skew_warning)


@subcommand(workers_command, "stop", "worker_id")
@reason_option
def workers_stop(ctx: Context, worker_id: str, reason: str | None) -> None:
    """Drain and stop WORKER_ID: at its next heartbeat it stops claiming, finishes its running
    jobs and exits."""
    from jobdeck.control import cli_actor
    from jobdeck.control.fleet import stop_worker

    stop_worker(ctx.deck, worker_id, cli_actor(), reason=reason)
    click.echo(f"{worker_id.strip()}: asked to drain and stop (at its next heartbeat)")


def redact_secrets(value: object) -> object:
    """URLs without their passwords, webhooks without their paths (Slack's hold the secret)."""
    from urllib.parse import urlsplit

    if isinstance(value, tuple):
        return tuple(redact_secrets(item) for item in value)
    if not isinstance(value, str) or "://" not in value:
        return value
    parts = urlsplit(value)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    hidden_path = "/…" if parts.scheme in ("http", "https") and parts.path.strip("/") else ""
    path = hidden_path or parts.path
    return f"{parts.scheme}://{netloc}{path}"


@click.command("settings")
@common_options
@click.option("--queues", "-q", default=None, help="As jobdeck worker --queues.")
@click.option(
    "--concurrency", "-c", type=int, default=None, help="As jobdeck worker --concurrency."
)
@click.option("--no-scheduler", is_flag=True, help="As jobdeck worker --no-scheduler.")
@json_option
def settings_command(
    ctx: Context, queues: str | None, concurrency: int | None, no_scheduler: bool, as_json: bool
) -> None:
    """The effective settings (a worker given the same options would use), and where each
    came from: default, environment (JOBDECK_*), code or command line."""
    from jobdeck.cli.views import settings_table

    settings = command_line_settings(ctx, queues, concurrency, no_scheduler)
    rows: list[tuple[str, object, str]] = [
        ("database_url", redact_secrets(ctx.deck.database_url), ctx.deck.database_url_source)
    ]
    rows += [
        (name, redact_secrets(getattr(settings, name)), settings.source_of(name))
        for name in settings.option_names()
    ]
    if as_json:
        click.echo(
            json.dumps(
                {name: {"value": value, "source": source} for name, value, source in rows}, indent=2
            )
        )
    else:
        settings_table(rows)
