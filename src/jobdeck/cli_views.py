"""Rich renderings of jobs for the terminal."""

from __future__ import annotations

import json
from datetime import datetime

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from jobdeck.control import JobDetail, JobPage
from jobdeck.schedule_spec import humanize_ago

console = Console(width=None if Console().is_terminal else 140)

_STATE_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "retryable": "yellow",
    "running": "cyan",
    "available": "white",
    "scheduled": "white",
    "cancelled": "dim",
}


def badge(state: str) -> Text:
    from jobdeck.states import JobState

    return Text(JobState(state).badge, style=_STATE_STYLES.get(state, ""))


def duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


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
            Text(job.task),
            badge(job.state),
            f"{job.attempt}/{job.max_attempts}",
            duration(job.duration_ms),
            short_time(job.started_at),
            short_time(job.finished_at),
        )
    console.print(table if page.rows else "no jobs match")
    if page.next_before_id:
        console.print(f"more: --before {page.next_before_id}", style="dim")


def job_panel(detail: JobDetail) -> None:
    job = detail.job
    now = datetime.now(job.enqueued_at.tzinfo)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows = [
        ("Task", Text(job.task)),
        ("Status", badge(job.state)),
        ("Queue", Text(job.queue)),
        ("Attempts", Text(f"{job.attempt} of {job.max_attempts}")),
        ("Enqueued", Text(when(job.enqueued_at, now))),
        ("Started", Text(when(job.started_at, now))),
        ("Finished", Text(when(job.finished_at, now))),
        ("Duration", Text(duration(job.duration_ms))),
        (
            "Trigger",
            Text(f"{job.trigger}" + (f" by {job.triggered_by}" if job.triggered_by else "")),
        ),
        ("Args", Text(json.dumps(job.args, ensure_ascii=False))),
        ("Labels", Text(", ".join(f"{k}={v}" for k, v in job.labels.items()) or "-")),
    ]
    if job.summary:
        rows.append(("Summary", Text(job.summary)))
    for name, value in rows:
        facts.add_row(name, value)
    parts: list[object] = [facts]
    if job.result is not None:
        parts.append(Syntax(json.dumps(job.result, indent=2, ensure_ascii=False), "json"))
    if job.error:
        parts.append(Text(job.error, style="red"))
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
            Text(attempt.error or ""),
        )
    console.print(attempts)
    for attempt in detail.attempts:
        if attempt.traceback:
            console.print(
                Panel(Text(attempt.traceback), title=f"traceback, attempt {attempt.attempt}")
            )
