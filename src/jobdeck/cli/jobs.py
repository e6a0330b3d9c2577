"""``jobdeck enqueue``, ``jobdeck jobs`` and ``jobdeck db``: put a job on a queue; list, show,
retry and cancel jobs; create or upgrade the schema they are stored in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import click

from jobdeck import control
from jobdeck.cli.context import (
    Context,
    common_options,
    json_option,
    reason_option,
    subcommand,
)
from jobdeck.deck import Deck
from jobdeck.errors import ConfigError, InvalidPayload
from jobdeck.states import JobState
from jobdeck.store.base import JobRow, Store


@click.command()
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
    deck = ctx.deck
    args = parse_json_object(_checked_depth(deck, args_json), "--args")
    target = deck.get_task(task) if task in deck.tasks or ctx.app_ref else _adhoc_task(deck, task)
    options: dict[str, Any] = {"trigger": "manual", "triggered_by": control.cli_actor().name}
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


def _adhoc_task(deck: Deck, name: str) -> Any:
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


@click.group()
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
    from jobdeck.cli.views import jobs_json, jobs_table, print_json

    query = control.JobQuery(task_text=task_text, status=status, queue=queue)
    page = control.list_jobs(
        ctx.deck.store, query, before_id, limit, redact=ctx.deck.settings.redact
    )
    if as_json:
        return print_json(jobs_json(page))
    jobs_table(page, ctx.deck.clock.now())


@subcommand(jobs, "show", "job_id", type=int)
@json_option
def jobs_show(ctx: Context, job_id: int, as_json: bool) -> None:
    """One job with its attempts, result, error and traceback (--json: whole, not shortened)."""
    from jobdeck.cli.views import job_json, job_panel, print_json

    detail = control.job_detail(ctx.deck.store, job_id, redact=ctx.deck.settings.redact)
    if as_json:
        return print_json(job_json(detail))
    job_panel(detail)


def bulk_options(command: Any) -> Any:
    """JOB_ID, or --all with the task list's filters: the shape of retry, cancel and delete."""
    for option in reversed(
        [
            click.argument("job_id", type=int, required=False),
            click.option(
                "--all", "all_matching", is_flag=True, help="Every job the filters match."
            ),
            click.option("--status", default=None, help="With --all: success, failed, pending..."),
            click.option("--task", "task_text", default=None, help="With --all: task name text."),
            click.option("--queue", default=None, help="With --all: one queue."),
            click.option("--search", default=None, help="With --all: as `jobdeck jobs search`."),
            click.option("--yes", "-y", is_flag=True, help="With --all: do not ask first."),
            reason_option,
        ]
    ):
        command = option(command)
    return common_options(command)


@jobs.command("retry")
@bulk_options
def jobs_retry(ctx: Context, job_id: int | None, reason: str | None, **bulk: Any) -> None:
    """Run a failed or cancelled job again (JOB_ID), or every one the filters match (--all)."""
    if job_id is not None and not bulk["all_matching"]:
        job = _act(ctx, "retry", job_id, reason)
        return click.echo(f"job {job.id} ({job.task}) is {job.state} again")
    _bulk(ctx, "retry", job_id, reason, **bulk)


@jobs.command("cancel")
@bulk_options
def jobs_cancel(ctx: Context, job_id: int | None, reason: str | None, **bulk: Any) -> None:
    """Cancel a job (JOB_ID: a pending one at once, a running one by its worker within a
    heartbeat), or every one not started that the filters match (--all)."""
    if job_id is not None and not bulk["all_matching"]:
        job = _act(ctx, "cancel", job_id, reason)
        if job.state == JobState.RUNNING:
            return click.echo(
                f"job {job.id} ({job.task}) cancelled: its worker stops it at its next heartbeat"
            )
        return click.echo(f"job {job.id} ({job.task}) cancelled")
    _bulk(ctx, "cancel", job_id, reason, **bulk)


@jobs.command("delete")
@bulk_options
def jobs_delete(ctx: Context, job_id: int | None, reason: str | None, **bulk: Any) -> None:
    """Delete a job that is not running (JOB_ID), or every one the filters match (--all)."""
    _bulk(ctx, "delete", job_id, reason, **bulk)


_PAST = {"retry": "retried", "cancel": "cancelled", "delete": "deleted"}


def _bulk(
    ctx: Context,
    action: str,
    job_id: int | None,
    reason: str | None,
    *,
    all_matching: bool,
    status: str | None,
    task_text: str | None,
    queue: str | None,
    search: str | None,
    yes: bool,
) -> None:
    """A bulk action: ask with the count first (unless --yes or one job), print progress."""
    filtered = any(v is not None for v in (status, task_text, queue, search))
    if job_id is not None and (all_matching or filtered):
        raise ConfigError("give a JOB_ID or --all with filters, not both")
    if filtered and not all_matching:
        raise ConfigError("filters need --all")
    if job_id is None and not all_matching:
        raise ConfigError(f"name a JOB_ID, or --all (with filters) to {action} many jobs")
    deck = ctx.deck
    redact = deck.settings.redact
    query = control.JobQuery(task_text=task_text, status=status, queue=queue, search=search)
    if job_id is not None:
        query = control.JobQuery(ids=(job_id,))
    count = control.bulk_count(deck.store, action, query, redact=redact)
    if count == 0:
        return click.echo(f"no jobs to {action}")
    if job_id is None and not yes:
        click.confirm(_question(deck.store, action, query, count, redact), abort=True, err=True)

    def progress(done: int) -> None:
        click.echo(f"  {_PAST[action]} {done:,} of {count:,}", err=True)

    done = control.bulk_act(
        deck.store,
        deck.clock,
        action,
        query,
        control.cli_actor(),
        reason=reason,
        redact=redact,
        progress=progress if job_id is None else None,
    )
    click.echo(f"{_PAST[action]} {done:,} job{'s' if done != 1 else ''}")


def _question(
    store: Store, action: str, query: control.JobQuery, count: int, redact: Iterable[str]
) -> str:
    """ "Cancel 12 jobs?", saying how many of a cancel's are running and stop later."""
    running = control.bulk_running_count(store, query, redact=redact) if action == "cancel" else 0
    if running:
        return (
            f"{action.capitalize()} {count:,} jobs ({running:,} running: their workers stop "
            "them at their next heartbeat)?"
        )
    return f"{action.capitalize()} {count:,} jobs?"


@subcommand(jobs, "search", "text")
@click.option("--status", default=None, help="success, failed, running, pending, cancelled.")
@click.option("--task", "task_text", default=None, help="Task name text (substring).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
def jobs_search(
    ctx: Context, text: str, status: str | None, task_text: str | None, limit: int, as_json: bool
) -> None:
    """Jobs whose arguments, labels, summary or error hold TEXT; or a job id; or terms like
    args.user_id:42 and label.event:claim (the newest jobs of the filter are searched)."""
    from jobdeck.cli.views import jobs_json, jobs_table, print_json

    deck = ctx.deck
    query = control.JobQuery(task_text=task_text, status=status, search=text)
    page = control.list_jobs(deck.store, query, None, limit, redact=deck.settings.redact)
    if as_json:
        return print_json(jobs_json(page))
    jobs_table(page, deck.clock.now())


@jobs.command("counts")
@common_options
@click.option("--task", "task_text", default=None, help="Task name text (substring).")
@click.option("--search", default=None, help="As `jobdeck jobs search`.")
@json_option
def jobs_counts(ctx: Context, task_text: str | None, search: str | None, as_json: bool) -> None:
    """Jobs by status (pending, running, failed, success, cancelled) under the filters."""
    from jobdeck.cli.views import print_json

    deck = ctx.deck
    query = control.JobQuery(task_text=task_text, search=search)
    counts = control.status_counts(deck.store, query, redact=deck.settings.redact)
    if as_json:
        return print_json({c.status: {"count": c.count, "more": c.more} for c in counts})
    for c in counts:
        click.echo(f"{c.status:<10} {c.count:>9,}{'+' if c.more else ''}")


@jobs.command("enqueue")
@common_options
@click.argument("task")
@click.option("--args", "args_json", default="{}", help="Keyword arguments as a JSON object.")
@click.option("--delay", default=None, help="Seconds, or a duration like 15m, before it may run.")
@click.option("--priority", type=int, default=None, help="The task's own priority if not given.")
@click.option("--label", "labels", multiple=True, help="key=value, added to the task's labels.")
@click.option(
    "--after",
    "after",
    multiple=True,
    type=click.IntRange(min=1),
    help="A job id it runs after (repeatable): it waits until all of them succeeded.",
)
@reason_option
def jobs_enqueue(
    ctx: Context,
    task: str,
    args_json: str,
    delay: str | None,
    priority: int | None,
    labels: tuple[str, ...],
    after: tuple[int, ...],
    reason: str | None,
) -> None:
    """Create a job of TASK, audited: --args '{"to": "a@example.com"}' --label ticket=OPS-1,
    --after 12 --after 13 to run it once jobs 12 and 13 succeeded.

    With --app the arguments are checked against the task's signature, as the dashboard's
    New job form checks them; without it the task is known by name only."""
    from jobdeck.control import new_job
    from jobdeck.durations import parse_duration

    deck = ctx.deck
    args = parse_json_object(_checked_depth(deck, args_json), "--args")
    if ctx.app_ref or task in deck.tasks:
        target = new_job.task_to_create(deck, task)
        form = new_job.task_form(target)
    else:
        target, form = _adhoc_task(deck, task), None
    request = new_job.NewJobRequest(
        args,
        parse_duration(delay, allow_zero=True).total_seconds() if delay else None,
        priority,
        _label_pairs(labels),
        after,
    )
    handle = new_job.create_job(
        deck, target, request, control.cli_actor(), reason=reason, form=form
    )
    click.echo(f"enqueued: job {handle.id} ({target.name})")


def _checked_depth(deck: Deck, text: str) -> str:
    from jobdeck.jsonvalues import text_depth
    from jobdeck.limits import PayloadLimits

    depth = PayloadLimits.of(deck.settings).json_limits
    # Measured on the text: json.loads recurses and fails on deep input before any check.
    if text_depth(text) > depth.max_depth:
        raise InvalidPayload(
            f"--args: nested more than {depth.max_depth} levels deep; "
            f"the limit is {depth.depth_rule}"
        )
    return text


def _label_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--label {pair[:40]!r}: expected key=value")
        labels[key.strip()] = value
    return labels


def _act(ctx: Context, action: control.JobAction, job_id: int, reason: str | None) -> JobRow:
    deck, actor = ctx.deck, control.cli_actor()
    return control.act_on_job(deck.store, deck.clock, action, job_id, actor, reason=reason)


@click.group()
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
