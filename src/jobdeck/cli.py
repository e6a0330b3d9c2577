"""The ``jobdeck`` command: worker, enqueue, jobs, db and demo."""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import click

from jobdeck import control
from jobdeck.app import JobDeck
from jobdeck.errors import ConfigError, InvalidPayload, JobDeckError
from jobdeck.extras import require_extra
from jobdeck.logs import LOG_FORMATS, setup_logging
from jobdeck.settings import COMMAND_LINE, DEFAULT, ENVIRONMENT, Settings
from jobdeck.store import DEFAULT_URL

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command needs: the deck from --app (if any) bound to the chosen database."""

    def __init__(self, app: str | None, database: str | None) -> None:
        self.app_ref = app
        app_deck = load_app(app) if app else None
        url, source = choose_database(database, app_deck)
        self.deck = app_deck or JobDeck(url)
        if url != self.deck.database_url:
            self.deck.use_database(url, source)
        self.deck.database_url_source = source


def choose_database(explicit: str | None, deck: JobDeck | None) -> tuple[str, str]:
    """--database, else JOBDECK_DATABASE_URL, else the --app deck's URL, else jobdeck.db here;
    with where the URL came from."""
    if explicit:
        return explicit, COMMAND_LINE
    from_env = os.environ.get("JOBDECK_DATABASE_URL")
    if from_env:
        return from_env, ENVIRONMENT
    if deck is not None:
        return deck.database_url, deck.database_url_source
    return DEFAULT_URL, DEFAULT


def load_app(ref: str) -> JobDeck:
    """Import ``module:attribute`` (attribute defaults to ``deck``) from the current folder."""
    module_name, _, attribute = ref.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"--app {ref}: cannot import {module_name!r} ({exc})") from None
    deck = getattr(module, attribute or "deck", None)
    if not isinstance(deck, JobDeck):
        raise ConfigError(f"--app {ref}: {attribute or 'deck'!r} in {module_name} is not a JobDeck")
    return deck


def common_options(command: F) -> F:
    """--app and --database on every command, as DESIGN.md's one rule for finding the database."""

    @click.option(
        "--database",
        "database",
        metavar="URL",
        default=None,
        help="Database URL (default: $JOBDECK_DATABASE_URL, the app's, or jobdeck.db).",
    )
    @click.option(
        "--app",
        "app",
        metavar="MODULE:DECK",
        default=None,
        help="Your JobDeck object, e.g. myproject.jobs:deck.",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, app: str | None, database: str | None, **kwargs: Any) -> Any:
        ctx = Context(app, database)
        try:
            return command(ctx, *args, **kwargs)
        finally:
            # Closed here, not by the garbage collector at exit: on Python 3.13 a psycopg pool
            # left open waits 5 s per worker thread at shutdown, after an error was printed.
            ctx.deck.close()

    return wrapper  # type: ignore[return-value]


reason_option = click.option(
    "--reason", default=None, help="Why you did it: stored with the action in the audit log."
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="One JSON document on stdout instead of a table."
)
log_format_option = click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default=None,
    help="text, or json: one object per line (default: the log_format setting, text).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jobdeck")
def main() -> None:
    """jobdeck: durable background jobs on SQLite or PostgreSQL."""


# -- worker --------------------------------------------------------------------------------------


@main.command()
@common_options
@click.option("--queues", "-q", default=None, help="Comma-separated queues (default: default).")
@click.option("--concurrency", "-c", type=int, default=None, help="Jobs run at once (default 10).")
@click.option("--no-scheduler", is_flag=True, help="Do not run the cron loop in this worker.")
@click.option(
    "--name",
    default=None,
    help="The host name this worker reports (default: this machine's); its id starts with it.",
)
@click.option("--log-level", default="INFO", show_default=True)
@log_format_option
def worker(
    ctx: Context,
    queues: str | None,
    concurrency: int | None,
    no_scheduler: bool,
    name: str | None,
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
    setup_logging(log_level, settings.log_format)
    reason = Worker(ctx.deck, settings, name=name.strip() if name else None).run()
    if reason == "restart":
        os.execv(sys.executable, [sys.executable, *sys.argv])


@main.command("workers")
@common_options
@click.option("--all", "show_all", is_flag=True, help="Also workers silent for more than a day.")
@json_option
def workers_command(ctx: Context, show_all: bool, as_json: bool) -> None:
    """Workers with their host, state, last heartbeat and clock offset from the database."""
    from jobdeck.cli_views import print_json, rows_json, workers_table

    now = ctx.deck.clock.now()
    since = None if show_all else now - timedelta(days=1)
    workers = ctx.deck.store.list_workers(since=since)
    if as_json:
        return print_json(rows_json(workers))
    workers_table(workers, now, ctx.deck.settings.clock_skew_warning)


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


def command_line_settings(
    ctx: Context,
    queues: str | None = None,
    concurrency: int | None = None,
    no_scheduler: bool = False,
    log_format: str | None = None,
) -> Settings:
    """The deck's settings with the worker options given on the command line."""
    overrides: dict[str, Any] = {}
    if log_format is not None:
        overrides["log_format"] = log_format
    if no_scheduler:
        overrides["scheduler_enabled"] = False
    if queues:
        overrides["queues"] = queues
    if concurrency is not None:
        overrides["concurrency"] = concurrency
    return ctx.deck.settings.overridden(COMMAND_LINE, **overrides)


@main.command("settings")
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
    from jobdeck import cli_views

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
        cli_views.settings_table(rows)


# -- enqueue -------------------------------------------------------------------------------------


@main.command()
@common_options
@click.argument("task")
@click.option("--args", "args_json", default="{}", help="Keyword arguments as a JSON object.")
@click.option("--queue", default=None)
@click.option("--delay", type=float, default=None, help="Seconds before the job may run.")
@click.option("--priority", type=int, default=None)
@click.option("--unique-key", default=None)
def enqueue(
    ctx: Context,
    task: str,
    args_json: str,
    queue: str | None,
    delay: float | None,
    priority: int | None,
    unique_key: str | None,
) -> None:
    """Enqueue TASK with --args '{"to": "a@example.com"}'."""
    from jobdeck.jsonvalues import text_depth
    from jobdeck.limits import PayloadLimits

    deck = ctx.deck
    depth = PayloadLimits.of(deck.settings).json_limits
    # Measured on the text: json.loads recurses and fails on deep input before any check.
    if text_depth(args_json) > depth.max_depth:
        raise InvalidPayload(
            f"--args: nested more than {depth.max_depth} levels deep; "
            f"the limit is {depth.depth_rule}"
        )
    args = parse_json_object(args_json, "--args")
    target = deck.get_task(task) if task in deck.tasks or ctx.app_ref else _adhoc_task(deck, task)
    options: dict[str, Any] = {"trigger": "manual", "triggered_by": f"cli:{control.os_user()}"}
    for key, value in {
        "queue": queue,
        "delay": delay,
        "priority": priority,
        "unique_key": unique_key,
    }.items():
        if value is not None:
            options[key] = value
    handle = target.options(**options).enqueue(**args)
    verb = "enqueued" if handle.created else "already queued (same unique key)"
    click.echo(f"{verb}: job {handle.id} ({target.name})")


def _adhoc_task(deck: JobDeck, name: str) -> Any:
    """Without --app the CLI cannot check the task exists; the worker that runs it will."""

    def placeholder(**kwargs: Any) -> None: ...

    return deck.task(name=name)(placeholder)


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f'{what} must be a JSON object like \'{{"to": "a@x"}}\'')
    return value


# -- jobs ----------------------------------------------------------------------------------------


@main.group()
def jobs() -> None:
    """List, inspect, retry and cancel jobs."""


@jobs.command("list")
@common_options
@click.option(
    "--state",
    "--status",
    "status",
    default=None,
    help="success, failed, running, pending, cancelled, or an engine state.",
)
@click.option("--task", "task_text", default=None, help="Task name text (substring).")
@click.option("--queue", default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--before", "before_id", type=int, default=None, help="Older than this job id.")
@json_option
def jobs_list(
    ctx: Context,
    status: str | None,
    task_text: str | None,
    queue: str | None,
    limit: int,
    before_id: int | None,
    as_json: bool,
) -> None:
    """Jobs, newest first (--json: {"jobs": [...], "next_before": ID or null})."""
    from jobdeck.cli_views import jobs_json, jobs_table, print_json

    query = control.JobQuery(task_text=task_text, status=status, queue=queue)
    page = control.list_jobs(ctx.deck.store, query, before_id, limit)
    if as_json:
        return print_json(jobs_json(page))
    jobs_table(page, ctx.deck.clock.now())


@jobs.command("show")
@common_options
@click.argument("job_id", type=int)
@json_option
def jobs_show(ctx: Context, job_id: int, as_json: bool) -> None:
    """One job with its attempts, result, error and traceback (--json: whole, not shortened)."""
    from jobdeck.cli_views import job_json, job_panel, print_json

    detail = control.job_detail(ctx.deck.store, job_id)
    if as_json:
        return print_json(job_json(detail))
    job_panel(detail)


@jobs.command("retry")
@common_options
@click.argument("job_id", type=int)
@reason_option
def jobs_retry(ctx: Context, job_id: int, reason: str | None) -> None:
    """Run a failed or cancelled job again."""
    deck = ctx.deck
    job = control.retry_job(deck.store, deck.clock, job_id, control.cli_actor(), reason=reason)
    click.echo(f"job {job.id} ({job.task}) is {job.state} again")


@jobs.command("cancel")
@common_options
@click.argument("job_id", type=int)
@reason_option
def jobs_cancel(ctx: Context, job_id: int, reason: str | None) -> None:
    """Cancel a job that has not started."""
    deck = ctx.deck
    job = control.cancel_job(deck.store, deck.clock, job_id, control.cli_actor(), reason=reason)
    click.echo(f"job {job.id} ({job.task}) cancelled")


# -- dashboard -----------------------------------------------------------------------------------


@main.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--no-login",
    is_flag=True,
    help="No sign-in: whoever reaches it operates it (refused unless on localhost).",
)
@click.option("--log-level", default="INFO", show_default=True)
@log_format_option
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


# -- schedules -----------------------------------------------------------------------------------


@main.command()
@common_options
@click.option("--log-level", default="INFO", show_default=True)
@log_format_option
def scheduler(ctx: Context, log_level: str, log_format: str | None) -> None:
    """Run only the scheduler loop (enqueue due ticks; run no jobs)."""
    from jobdeck.worker.scheduler import run_scheduler

    if not ctx.app_ref:
        raise ConfigError("jobdeck scheduler needs --app module:deck so it knows your schedules")
    setup_logging(log_level, command_line_settings(ctx, log_format=log_format).log_format)
    run_scheduler(ctx.deck)


@main.group()
def schedules() -> None:
    """List, run, pause and resume periodic schedules."""


@schedules.command("list")
@common_options
@json_option
def schedules_list(ctx: Context, as_json: bool) -> None:
    """Each schedule with frequency, status, last and next run, and staleness."""
    from jobdeck.cli_views import print_json, schedules_json, schedules_table
    from jobdeck.control.schedules import schedule_statuses

    statuses = schedule_statuses(ctx.deck)
    if as_json:
        return print_json(schedules_json(statuses))
    schedules_table(statuses, ctx.deck.clock.now())


@schedules.command("show")
@common_options
@click.argument("name")
@click.option("--runs", type=click.IntRange(1, 100), default=10, show_default=True)
@json_option
def schedules_show(ctx: Context, name: str, runs: int, as_json: bool) -> None:
    """One schedule and its last runs."""
    from jobdeck.cli_views import print_json, schedule_json, schedule_panel
    from jobdeck.control.schedules import recent_runs, schedule_status

    status = schedule_status(ctx.deck, name)
    last_runs = recent_runs(ctx.deck, name, runs)
    if as_json:
        return print_json(schedule_json(status, last_runs))
    schedule_panel(status, last_runs, ctx.deck.clock.now())


@schedules.command("run")
@common_options
@click.argument("name")
@reason_option
def schedules_run(ctx: Context, name: str, reason: str | None) -> None:
    """Run NAME now (once: while a manual run is queued or running, says so)."""
    result = control.run_now(ctx.deck, name, control.cli_actor(), reason=reason)
    if result.created:
        click.echo(f"{name}: manual run queued as job {result.job_id}")
    else:
        click.echo(f"{name}: already queued or running as job {result.job_id}")


@schedules.command("pause")
@common_options
@click.argument("name")
@reason_option
def schedules_pause(ctx: Context, name: str, reason: str | None) -> None:
    """Stop enqueuing ticks of NAME until resumed."""
    control.set_paused(ctx.deck, name, True, control.cli_actor(), reason=reason)
    click.echo(f"{name}: paused")


@schedules.command("resume")
@common_options
@click.argument("name")
@reason_option
def schedules_resume(ctx: Context, name: str, reason: str | None) -> None:
    """Resume a paused schedule (missed ticks follow its catch-up policy)."""
    control.set_paused(ctx.deck, name, False, control.cli_actor(), reason=reason)
    click.echo(f"{name}: resumed")


@main.command()
@common_options
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@json_option
def alerts(ctx: Context, limit: int, as_json: bool) -> None:
    """Recent alert events (stale schedules, jobs out of retries, recoveries)."""
    from jobdeck.cli_views import alerts_table, print_json, rows_json

    recent = ctx.deck.store.list_alerts(limit)
    if as_json:
        return print_json(rows_json(recent))
    alerts_table(recent)


# -- users and tokens ------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Dashboard users and their roles."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for a password: pipe it with --password-stdin")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("add")
@common_options
@click.argument("email")
@click.option("--role", required=True, help="admin, partner, attorney, manager, ca, advocate, user")
@click.option("--name", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_add(ctx: Context, email: str, role: str, name: str | None, password_stdin: bool) -> None:
    """Add a user (password from a prompt, or --password-stdin)."""
    from jobdeck import accounts

    policy = accounts.AccessPolicy.from_settings(ctx.deck.settings.role_permissions)
    user = accounts.add_user(
        ctx.deck.store,
        ctx.deck.clock,
        policy,
        control.cli_actor(),
        email,
        _read_password(password_stdin),
        role,
        name,
    )
    click.echo(f"added {user.email} as {user.role}")


@users.command("list")
@common_options
@json_option
def users_list(ctx: Context, as_json: bool) -> None:
    """Users with role, status and last sign-in."""
    from jobdeck.cli_views import print_json, users_json, users_table

    found = ctx.deck.store.list_users()
    if as_json:
        return print_json(users_json(found))
    users_table(found)


@users.command("set-role")
@common_options
@click.argument("email")
@click.argument("role")
def users_set_role(ctx: Context, email: str, role: str) -> None:
    """Change a user's role (their sessions end)."""
    from jobdeck import accounts

    policy = accounts.AccessPolicy.from_settings(ctx.deck.settings.role_permissions)
    user = accounts.set_role(
        ctx.deck.store, ctx.deck.clock, policy, control.cli_actor(), email, role
    )
    click.echo(f"{user.email} is now {user.role}")


@users.command("disable")
@common_options
@click.argument("email")
def users_disable(ctx: Context, email: str) -> None:
    """Disable a user (their sessions end)."""
    from jobdeck import accounts

    accounts.set_active(ctx.deck.store, ctx.deck.clock, control.cli_actor(), email, False)
    click.echo(f"{email} disabled")


@users.command("enable")
@common_options
@click.argument("email")
def users_enable(ctx: Context, email: str) -> None:
    """Enable a disabled user."""
    from jobdeck import accounts

    accounts.set_active(ctx.deck.store, ctx.deck.clock, control.cli_actor(), email, True)
    click.echo(f"{email} enabled")


@users.command("reset-password")
@common_options
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_reset_password(ctx: Context, email: str, password_stdin: bool) -> None:
    """Set a new password (their sessions end)."""
    from jobdeck import accounts

    accounts.reset_password(
        ctx.deck.store, ctx.deck.clock, control.cli_actor(), email, _read_password(password_stdin)
    )
    click.echo(f"password of {email} reset")


@main.group()
def tokens() -> None:
    """API tokens for scripts (Authorization: Bearer ...)."""


@tokens.command("create")
@common_options
@click.argument("name")
@click.option("--role", required=True)
def tokens_create(ctx: Context, name: str, role: str) -> None:
    """Create a token; it is printed once and stored only as a digest."""
    from jobdeck import accounts

    policy = accounts.AccessPolicy.from_settings(ctx.deck.settings.role_permissions)
    secret, token = accounts.create_token(
        ctx.deck.store, ctx.deck.clock, policy, control.cli_actor(), name, role
    )
    click.echo(f"token {token.id} ({token.role}); copy it now, it is not shown again:")
    click.echo(secret)


@tokens.command("list")
@common_options
@json_option
def tokens_list(ctx: Context, as_json: bool) -> None:
    """Tokens with role, prefix, last use and status."""
    from jobdeck.cli_views import print_json, rows_json, tokens_table

    found = ctx.deck.store.list_tokens()
    if as_json:
        return print_json(rows_json(found))
    tokens_table(found)


@tokens.command("revoke")
@common_options
@click.argument("token_id", type=int)
def tokens_revoke(ctx: Context, token_id: int) -> None:
    """Revoke a token at once."""
    from jobdeck import accounts

    accounts.revoke_token(ctx.deck.store, ctx.deck.clock, control.cli_actor(), token_id)
    click.echo(f"token {token_id} revoked")


# -- db ------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
@common_options
def db_migrate(ctx: Context) -> None:
    """Create or upgrade the schema (safe to run again)."""
    applied = ctx.deck.store.migrate()
    target = ctx.deck.database_url
    if applied:
        click.echo(f"{target}: applied {', '.join(applied)}")
    else:
        click.echo(f"{target}: schema is up to date")


@db.command("status")
@common_options
def db_status(ctx: Context) -> None:
    """Show the schema version and pending migrations."""
    status = ctx.deck.store.schema_status()
    pending = ", ".join(status.pending) or "none"
    click.echo(f"schema {status.current} of {status.latest}; pending: {pending}")


# -- demo ----------------------------------------------------------------------------------------


@main.group(invoke_without_command=True)
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


def _attach_plugin_commands() -> None:
    from jobdeck.contrib.documents.cli import documents as documents_commands

    main.add_command(documents_commands)


_attach_plugin_commands()


def run(
    command: click.Command | None = None,
    args: list[str] | None = None,
    prog_name: str | None = None,
) -> None:
    """Entry point with one-line errors instead of tracebacks for problems users can fix;
    ``command``/``args`` let another front end (manage.py jobdeck_worker) share it."""
    try:
        (command or main).main(args=args, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except JobDeckError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run()
