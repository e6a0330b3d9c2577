"""Rich renderings of jobs for the terminal, and the JSON documents ``--json`` prints."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TypeVar

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from jobdeck.control import JobDetail, JobPage
from jobdeck.control.fleet import QueuesOverview, QueueView
from jobdeck.durations import format_duration
from jobdeck.jsonvalues import preview
from jobdeck.schedules import ScheduleStatus
from jobdeck.schedules.spec import humanize_ago, humanize_until
from jobdeck.store.base import AlertRow, JobRow, TokenRow, UserRow, WorkerInfo

R = TypeVar("R")

console = Console(width=None if Console().is_terminal else 140)

_STATE_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "retryable": "yellow",
    "running": "cyan",
    "available": "white",
    "scheduled": "white",
    "waiting": "magenta",
    "cancelled": "dim",
}


def badge(state: str) -> Text:
    from jobdeck.states import JobState

    return Text(JobState(state).badge, style=_STATE_STYLES.get(state, ""))


def duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def milliseconds(ms: float | None) -> str:
    """A percentile: under 1 ms with a decimal, else as ``duration`` shows whole ms."""
    if ms is None:
        return "-"
    return f"{ms:.1f} ms" if ms < 1 else duration(round(ms))


def when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    return f"{moment:%Y-%m-%d %H:%M:%S} ({humanize_ago(moment, now)})"


def short_time(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%m-%d %H:%M:%S}"


def jobs_table(page: JobPage, now: datetime) -> None:
    table = Table(show_edge=False, header_style="bold")
    for column in ("ID", "Task", "Status", "Attempt", "Duration", "Started", "Finished"):
        table.add_column(column, overflow="fold")
    for job in page.rows:
        table.add_row(
            str(job.id),
            Text(_clip(job.task, 200)),
            badge(job.state),
            f"{job.attempt}/{job.max_attempts}",
            duration(job.duration_ms),
            short_time(job.started_at),
            short_time(job.finished_at),
        )
    console.print(table if page.rows else "no jobs match")
    if page.next_before_id:
        console.print(f"more: --before {page.next_before_id}", style="dim")


# A terminal shows more than the drawer, but not a megabyte: past these, values are shortened.
ARGS_CHARS = 2_000
RESULT_CHARS = 20_000
TEXT_CHARS = 5_000


def _clip(text: str, limit: int = TEXT_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… (+{len(text) - limit:,} characters)"


def _clip_start(text: str, limit: int) -> str:
    return (
        text
        if len(text) <= limit
        else f"({len(text) - limit:,} characters before) …{text[-limit:]}"
    )


def job_panel(detail: JobDetail) -> None:
    job = detail.job
    args = preview(job.args, indent=None, max_chars=ARGS_CHARS, max_depth=20, max_items=100)
    result = preview(job.result, max_chars=RESULT_CHARS, max_depth=20, max_items=200)
    shortened = args.truncated or (job.result is not None and result.truncated)
    now = datetime.now(job.enqueued_at.tzinfo)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows = [
        ("Task", Text(_clip(job.task, 500))),
        ("Status", badge(job.state)),
        ("Queue", Text(_clip(job.queue, 500))),
        ("Attempts", Text(f"{job.attempt} of {job.max_attempts}")),
        ("Enqueued", Text(when(job.enqueued_at, now))),
        ("Started", Text(when(job.started_at, now))),
        ("Finished", Text(when(job.finished_at, now))),
        ("Duration", Text(duration(job.duration_ms))),
        (
            "Trigger",
            Text(f"{job.trigger}" + (f" by {job.triggered_by}" if job.triggered_by else "")),
        ),
        ("Args", Text(args.text)),
        ("Labels", Text(_clip(", ".join(f"{k}={v}" for k, v in job.labels.items())) or "-")),
    ]
    if job.summary:
        rows.append(("Summary", Text(_clip(job.summary))))
    progress = detail.progress_of(job.attempt)
    if progress is not None:
        rows.append(
            ("Progress", Text(_progress_text(progress.done, progress.total, progress.note)))
        )
    if job.cancel_requested_at and job.state == "running":
        rows.append(("Cancel", Text(f"requested by {job.cancelled_by}: stopping", style="red")))
    for name, value in rows:
        facts.add_row(name, value)
    parts: list[object] = [facts]
    if job.result is not None:
        parts.append(Syntax(result.text, "json"))
    if job.error:
        parts.append(Text(_clip(job.error), style="red"))
    if shortened:
        parts.append(
            Text(
                "(values shortened for the terminal; the dashboard's api/jobs/ID has them whole)",
                style="dim",
            )
        )
    console.print(Panel(Group(*parts), title=f"job {job.id}"))  # type: ignore[arg-type]
    attempts = Table(title="Attempts", show_edge=False, header_style="bold")
    for column in ("#", "Status", "Worker", "Started", "Duration", "Error"):
        attempts.add_column(column, overflow="fold")
    for attempt in detail.attempts:
        attempts.add_row(
            str(attempt.attempt),
            Text(attempt.status, style=_STATE_STYLES.get(attempt.status, "")),
            Text(attempt.worker_id or "-"),
            when(attempt.started_at, now),
            duration(attempt.duration_ms),
            Text(_clip(attempt.error or "")),
        )
    console.print(attempts)
    lines = detail.lines_of(job.attempt)
    if lines:
        log = Text(
            "\n".join(f"{ln.at:%H:%M:%S} {ln.level.upper()} {_clip(ln.message)}" for ln in lines)
        )
        console.print(Panel(log, title=f"log of attempt {job.attempt}"))
    for attempt in detail.attempts:
        if attempt.traceback:
            trace = attempt.traceback
            if len(trace) > RESULT_CHARS:
                trace = (
                    f"(+{len(trace) - RESULT_CHARS:,} characters before) …{trace[-RESULT_CHARS:]}"
                )
            console.print(Panel(Text(trace), title=f"traceback, attempt {attempt.attempt}"))


_SCHEDULE_STYLES = {"success": "green", "failed": "red", "running": "cyan", "pending": "white"}


def schedule_badge(status: ScheduleStatus) -> Text:
    text = Text(status.badge_text, style=_SCHEDULE_STYLES.get(status.status, ""))
    if status.may_be_stuck:
        text.append(" (may be stuck)", style="yellow")
    if status.paused:
        text.append(" · paused", style="dim")
    if not status.active:
        text.append(" · inactive", style="dim")
    return text


def schedules_table(statuses: list[ScheduleStatus], now: datetime) -> None:
    table = Table(show_edge=False, header_style="bold")
    for column in ("Name", "Frequency", "Status", "Last run", "Next run", "Stale"):
        table.add_column(column, overflow="fold")
    for status in statuses:
        table.add_row(
            Text(status.name),
            Text(status.frequency),
            schedule_badge(status),
            humanize_ago(status.last_run_at, now) if status.last_run_at else "never",
            humanize_until(status.next_run_at, now) if status.next_run_at else "-",
            Text("STALE", style="bold red") if status.stale else Text("no", style="dim"),
        )
    console.print(table if statuses else "no schedules (start a worker with --app to sync them)")


def schedule_panel(status: ScheduleStatus, runs: list[JobRow], now: datetime) -> None:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Title", Text(status.title))
    facts.add_row("Description", Text(status.description or "-"))
    facts.add_row("Frequency", Text(status.frequency))
    facts.add_row("Status", schedule_badge(status))
    facts.add_row("Last run", when(status.last_run_at, now))
    facts.add_row("Last success", when(status.last_success_at, now))
    facts.add_row("Next run", when(status.next_run_at, now))
    facts.add_row("Expected max age", _span(status.expected_max_age))
    facts.add_row("Alert after", _span(status.alert_after))
    if status.stale:
        facts.add_row(
            "Health",
            Text("STALE: last success is older than the alert threshold", style="bold red"),
        )
    console.print(Panel(facts, title=status.name))
    table = Table(title="Last runs", show_edge=False, header_style="bold")
    for column in ("Job", "Trigger", "Status", "Started", "Duration", "Summary / error"):
        table.add_column(column, overflow="fold")
    for job in runs:
        table.add_row(
            str(job.id),
            job.trigger,
            badge(job.state),
            short_time(job.started_at),
            duration(job.duration_ms),
            Text(job.summary or job.error or ""),
        )
    console.print(table)


def alerts_table(alerts: list[AlertRow]) -> None:
    table = Table(show_edge=False, header_style="bold")
    for column in ("ID", "When", "Kind", "Subject", "Message", "Delivery"):
        table.add_column(column, overflow="fold")
    for alert in alerts:
        delivery = alert.delivery_error or ("sent" if alert.delivered_at else "-")
        table.add_row(
            str(alert.id),
            short_time(alert.created_at),
            alert.kind,
            Text(alert.subject),
            Text(alert.message),
            Text(delivery),
        )
    console.print(table if alerts else "no alerts")


def clock_offset(offset_ms: int | None, warn_seconds: float) -> Text:
    """``+0.004 s``; in yellow past ``warn_seconds``: that host's clock is off."""
    if offset_ms is None:
        return Text("-")
    style = "yellow" if abs(offset_ms) > warn_seconds * 1000 else ""
    return Text(f"{offset_ms / 1000:+.3f} s", style=style)


def workers_table(workers: list[WorkerInfo], now: datetime, warn_seconds: float) -> None:
    table = Table(show_edge=False, header_style="bold")
    for column in ("Host", "Worker", "State", "Queues", "Slots", "Last heartbeat", "Clock"):
        table.add_column(column, overflow="fold")
    for worker in workers:
        table.add_row(
            Text(worker.host),
            Text(worker.id),
            _worker_state(worker),
            Text(",".join(worker.queues)),
            str(worker.concurrency),
            when(worker.last_heartbeat, now),
            clock_offset(worker.clock_offset_ms, warn_seconds),
        )
    console.print(table if workers else "no workers")
    if workers:
        console.print("Clock: how far each host's clock is ahead of the database's (- behind).")


def _worker_state(worker: WorkerInfo) -> str:
    if worker.stop_requested_at is not None and worker.state != "stopped":
        return f"{worker.state} (asked to stop)"
    return worker.state


def queues_table(overview: QueuesOverview) -> None:
    table = Table(show_edge=False, header_style="bold")
    columns = ("Queue", "Status", "Pending", "Scheduled", "Running", "Retrying", "Latency")
    for column in (*columns, f"Done ({overview.period})", "Failed", "Workers"):
        table.add_column(column, overflow="fold")
    for view in overview.queues:
        table.add_row(
            Text(view.queue),
            Text("paused", style="yellow") if view.paused else Text("active"),
            str(view.pending),
            str(view.scheduled),
            str(view.running),
            str(view.retrying),
            format_duration(view.latency) if view.oldest_pending_at else "-",
            str(view.finished),
            _rate(view.failure_rate),
            str(len(view.workers)),
        )
    console.print(table if overview.queues else "no queues")
    if overview.queues:
        console.print(
            "Latency: how long the oldest pending job has waited. Done and failed count "
            "attempts by their task's declared queue."
        )


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def queues_json(overview: QueuesOverview) -> dict[str, object]:
    return {
        "period": overview.period,
        "since": overview.since,
        "until": overview.until,
        "queues": [_queue_json(view, overview) for view in overview.queues],
    }


def _queue_json(view: QueueView, overview: QueuesOverview) -> dict[str, object]:
    pause = view.paused
    return {
        "queue": view.queue,
        "paused": pause is not None,
        "paused_at": pause.paused_at if pause else None,
        "paused_by": pause.paused_by if pause else None,
        "pause_reason": pause.reason if pause else None,
        "pending": view.pending,
        "scheduled": view.scheduled,
        "running": view.running,
        "retrying": view.retrying,
        "oldest_pending_at": view.oldest_pending_at,
        "latency_seconds": view.latency.total_seconds(),
        "succeeded": view.succeeded,
        "failed": view.failed,
        "failure_rate": view.failure_rate,
        "per_minute": round(overview.per_minute(view), 3),
        "workers": [w.id for w in view.workers],
    }


def _span(delta: timedelta | None) -> str:
    return format_duration(delta) if delta is not None else "-"


def users_table(users: list[UserRow]) -> None:
    table = Table(show_edge=False, header_style="bold")
    for column in ("ID", "Email", "Name", "Role", "Status", "Last sign-in"):
        table.add_column(column)
    for u in users:
        table.add_row(
            str(u.id),
            u.email,
            u.name,
            u.role,
            "active" if u.active else "disabled",
            short_time(u.last_login_at),
        )
    console.print(table if users else "no users: jobdeck users add EMAIL --role admin")


def tokens_table(tokens: list[TokenRow]) -> None:
    table = Table(show_edge=False, header_style="bold")
    for column in ("ID", "Name", "Role", "Prefix", "Created by", "Last used", "Status"):
        table.add_column(column)
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.role,
            t.prefix + "…",
            t.created_by,
            short_time(t.last_used_at),
            "revoked" if t.revoked_at else "active",
        )
    console.print(table if tokens else "no tokens")


def settings_table(rows: Sequence[tuple[str, object, str]]) -> None:
    """Setting, effective value, and where it came from (default, environment, code, ...)."""
    from jobdeck.settings import DEFAULT, env_name

    table = Table(show_edge=False, header_style="bold")
    for column in ("Setting", "Value", "From", "Variable"):
        table.add_column(column, overflow="fold")
    for name, value, source in rows:
        style = "dim" if source == DEFAULT else ""
        table.add_row(name, _setting_text(name, value), source, env_name(name), style=style)
    console.print(table)


def _setting_text(name: str, value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ", ".join(value) or "(none)"
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, float) and name.endswith("_days"):
        return f"{value:g} days"
    if isinstance(value, float):
        return f"{value:g} s"
    return str(value)


# -- --json: one document on stdout for scripts -------------------------------------------------


def print_json(document: object) -> None:
    """``document`` as JSON on stdout: datetimes ISO 8601, durations in seconds, no markup."""
    import click

    click.echo(json.dumps(document, default=_json_value, indent=2, ensure_ascii=False))


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def jobs_json(page: JobPage) -> dict[str, object]:
    """``{"jobs": [...], "next_before": id}``: pass ``next_before`` as ``--before`` for more."""
    return {"jobs": [asdict(job) for job in page.rows], "next_before": page.next_before_id}


def _progress_text(done: float, total: float | None, note: str | None) -> str:
    text = f"{done:g} of {total:g} ({100 * done / total:.0f}%)" if total else f"{done:g} done"
    return text + (f" · {_clip(note, 200)}" if note else "")


def job_json(detail: JobDetail) -> dict[str, object]:
    return {
        **asdict(detail.job),
        "attempts": [asdict(a) for a in detail.attempts],
        "progress": [asdict(p) for p in detail.progress],
        "log_lines": [asdict(line) for line in detail.log_lines],
    }


def schedules_json(statuses: list[ScheduleStatus]) -> list[dict[str, object]]:
    return [asdict(status) for status in statuses]


def schedule_json(status: ScheduleStatus, runs: list[JobRow]) -> dict[str, object]:
    return {**asdict(status), "runs": [asdict(job) for job in runs]}


def users_json(users: list[UserRow]) -> list[dict[str, object]]:
    # The password hash stays in the database: a script has no use for it.
    return [{k: v for k, v in asdict(u).items() if k != "password_hash"} for u in users]


def rows_json(rows: Sequence[AlertRow | TokenRow | WorkerInfo]) -> list[dict[str, object]]:
    """Alerts, tokens (their prefix, never a secret: only a digest is stored) or workers."""
    return [asdict(row) for row in rows]


def print_rows(
    rows: list[R],
    as_json: bool,
    table: Callable[[list[R]], None],
    document: Callable[[list[R]], object],
) -> None:
    """``rows`` as ``table`` prints them, or with --json as one ``document``."""
    if as_json:
        print_json(document(rows))
    else:
        table(rows)
