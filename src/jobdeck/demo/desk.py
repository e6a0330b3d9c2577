"""The litigation desk's reads and writes behind the host pages: tasks and their escalations,
hearings, analytics snapshots and feedback, on the demo's tables in either dialect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from jobdeck.demo.app import db
from jobdeck.errors import ConfigError

TASK_VIEWS = {
    "overdue": ("Overdue", "t.status <> 'done' AND t.due_at < :now"),
    "soon": ("Due in 3 days", "t.status <> 'done' AND t.due_at >= :now AND t.due_at <= :soon"),
    "open": ("Open", "t.status <> 'done'"),
    "done": ("Done", "t.status = 'done'"),
    "all": ("All", "1 = 1"),
}
DELAY_REASONS = (
    "Client delay",
    "Court adjournment",
    "Awaiting documents",
    "Deadline extended",
    "Other",
)
METRICS = {
    "active_cases": "Active cases",
    "open_tasks": "Open tasks",
    "hearings_next_7d": "Hearings in the next 7 days",
}
FEEDBACK_TOPICS = (
    "Background Jobs guide",
    "Background Jobs dashboard",
    "Tasks",
    "Analytics",
    "Other",
)


def counts(now: datetime) -> dict[str, int]:
    def one(sql: str) -> int:
        return int(db().rows(sql, {"now": now, "day": now + timedelta(hours=24)})[0]["n"])

    return {
        "active_cases": one("SELECT COUNT(*) AS n FROM cases WHERE status = 'active'"),
        "open_tasks": one("SELECT COUNT(*) AS n FROM tasks WHERE status <> 'done'"),
        "overdue_tasks": one(
            "SELECT COUNT(*) AS n FROM tasks WHERE status <> 'done' AND due_at < :now"
        ),
        "hearings_24h": one(
            "SELECT COUNT(*) AS n FROM hearings WHERE hearing_date >= :now AND hearing_date <= :day"
        ),
    }


_TASK_COLUMNS = (
    "SELECT t.id, t.title, t.due_at, t.status, t.assigned_to, c.id AS case_id, c.case_number, "
    "c.title AS case_title, n.name AS tenant, p.full_name AS assignee, "
    "(SELECT COUNT(DISTINCT l.rule_id) FROM automation_logs l WHERE l.task_id = t.id) "
    "AS escalations, "
    "(SELECT COUNT(*) FROM task_notes d WHERE d.task_id = t.id) AS notes "
    "FROM tasks t JOIN cases c ON c.id = t.case_id JOIN tenants n ON n.id = c.tenant_id "
    "LEFT JOIN profiles p ON p.id = t.assigned_to "
)


def tasks(view: str, now: datetime) -> list[dict[str, Any]]:
    """The tasks of one view, most overdue first; ``overdue`` is exactly what the SLA check
    counts (open, due before now)."""
    where = TASK_VIEWS[view][1]
    return db().rows(
        _TASK_COLUMNS + f"WHERE {where} ORDER BY t.due_at, t.id",
        {"now": now, "soon": now + timedelta(days=3)},
    )


def task(task_id: int) -> dict[str, Any] | None:
    found = db().rows(_TASK_COLUMNS + "WHERE t.id = :id", {"id": task_id})
    return found[0] if found else None


def escalations(task_id: int) -> list[dict[str, Any]]:
    """Each automation rule that escalated the task: how often, first and last time."""
    return db().rows(
        "SELECT r.name, COUNT(*) AS times, MIN(l.created_at) AS first_at, "
        "MAX(l.created_at) AS last_at FROM automation_logs l "
        "JOIN automation_rules r ON r.id = l.rule_id WHERE l.task_id = :id "
        "GROUP BY r.name ORDER BY MIN(l.created_at)",
        {"id": task_id},
    )


def notes(task_id: int) -> list[dict[str, Any]]:
    return db().rows(
        "SELECT author, reason, note, created_at FROM task_notes WHERE task_id = :id "
        "ORDER BY id DESC",
        {"id": task_id},
    )


def people() -> list[dict[str, Any]]:
    return db().rows(
        "SELECT p.id, p.full_name, p.role, n.name AS tenant FROM profiles p "
        "JOIN tenants n ON n.id = p.tenant_id ORDER BY p.full_name"
    )


@dataclass(frozen=True)
class TaskChange:
    assigned_to: int | None
    due_at: datetime
    status: str
    reason: str
    note: str


def update_task(task_id: int, change: TaskChange, author: str, now: datetime) -> None:
    """Scenario 1's steps 2, 3 and 5: assign, move the due date, record why it slipped."""
    if change.status not in ("open", "done"):
        raise ConfigError("a task is open or done")
    if change.reason and change.reason not in DELAY_REASONS:
        raise ConfigError(f"the reason is one of: {', '.join(DELAY_REASONS)}")
    with db().transaction() as conn:
        updated = db().execute_in(
            conn,
            "UPDATE tasks SET assigned_to = :who, due_at = :due, status = :status WHERE id = :id",
            {
                "who": change.assigned_to,
                "due": change.due_at,
                "status": change.status,
                "id": task_id,
            },
        )
        if not updated.rowcount:
            raise ConfigError(f"no task {task_id}")
        if change.reason or change.note.strip():
            db().execute_in(
                conn,
                "INSERT INTO task_notes (task_id, author, reason, note, created_at) "
                "VALUES (:id, :author, :reason, :note, :now)",
                {
                    "id": task_id,
                    "author": author,
                    "reason": change.reason or "Other",
                    "note": change.note.strip()[:2000],
                    "now": now,
                },
            )


def hearings(now: datetime, hours: int = 48) -> list[dict[str, Any]]:
    return db().rows(
        "SELECT h.hearing_date, h.court, c.case_number, p.full_name AS assignee "
        "FROM hearings h JOIN cases c ON c.id = h.case_id "
        "LEFT JOIN profiles p ON p.id = h.assigned_to "
        "WHERE h.hearing_date >= :now AND h.hearing_date <= :until ORDER BY h.hearing_date",
        {"now": now, "until": now + timedelta(hours=hours)},
    )


# -- analytics -----------------------------------------------------------------------------------


def tenants() -> list[dict[str, Any]]:
    return db().rows("SELECT id, name FROM tenants ORDER BY name")


def active_cases(tenant_id: str) -> int:
    found = db().rows(
        "SELECT COUNT(*) AS n FROM cases WHERE tenant_id = :t AND status = 'active'",
        {"t": tenant_id},
    )
    return int(found[0]["n"])


@dataclass(frozen=True)
class Series:
    """One tenant's snapshots by day: ``values[metric][i]`` is that metric on ``days[i]``
    (None where the job wrote no row that day)."""

    days: list[date]
    values: dict[str, list[int | None]]
    rows: list[dict[str, Any]]  # newest first, as the guide's verification query lists them

    def zero_days(self) -> list[date]:
        """Days whose snapshot counted no active case: the guide's Scenario 3."""
        active = self.values["active_cases"]
        return [day for day, value in zip(self.days, active, strict=True) if value == 0]

    def chart(self) -> dict[str, Any]:
        from calendar import timegm

        return {
            "x": [timegm(day.timetuple()) for day in self.days],
            "series": [
                {"label": label, "values": self.values[metric]} for metric, label in METRICS.items()
            ],
        }


def snapshots(tenant_id: str, today: date, days: int) -> Series:
    since = today - timedelta(days=days - 1)
    rows = db().rows(
        "SELECT snapshot_date, metric_type, metric_value, created_at FROM analytics_snapshots "
        "WHERE tenant_id = :t AND snapshot_date >= :since "
        "ORDER BY snapshot_date DESC, metric_type",
        {"t": tenant_id, "since": since.isoformat()},
    )
    found = {(str(r["snapshot_date"]), r["metric_type"]): int(r["metric_value"]) for r in rows}
    span = [since + timedelta(days=i) for i in range(days)]
    values = {metric: [found.get((day.isoformat(), metric)) for day in span] for metric in METRICS}
    return Series(span, values, rows)


# -- feedback ------------------------------------------------------------------------------------


def add_feedback(author: str, role: str, topic: str, message: str, now: datetime) -> None:
    if topic not in FEEDBACK_TOPICS:
        raise ConfigError("choose a topic from the list")
    if not message.strip():
        raise ConfigError("write a few words of feedback first")
    db().execute(
        "INSERT INTO demo_feedback (author, role, topic, message, created_at) "
        "VALUES (:author, :role, :topic, :message, :now)",
        {
            "author": author,
            "role": role,
            "topic": topic,
            "message": message.strip()[:4000],
            "now": now,
        },
    )


def feedback(limit: int = 200) -> list[dict[str, Any]]:
    return db().rows(
        "SELECT author, role, topic, message, created_at FROM demo_feedback "
        "ORDER BY id DESC LIMIT :limit",
        {"limit": limit},
    )
