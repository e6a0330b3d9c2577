"""The product guide's SQL, verbatim (it runs as written when the demo is on PostgreSQL), with
the SQLite form of each, and jobdeck's equivalents where the guide queries something jobdeck
does not have (pg_cron's ``cron.job``). The Help page prints them; Advanced Tools runs them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobdeck.demo.db import DemoDB

TENANT_PLACEHOLDER = "'your-tenant-id'"


@dataclass(frozen=True)
class GuideQuery:
    key: str
    title: str
    where: str  # where the guide (or this help) uses it
    postgres: str
    sqlite: str
    verbatim: bool  # the PostgreSQL text is the guide's own, character for character
    note: str = ""

    def text(self, dialect: str) -> str:
        return self.postgres if dialect == "postgres" else self.sqlite

    @property
    def same_in_both(self) -> bool:
        return self.postgres == self.sqlite

    @property
    def takes_tenant(self) -> bool:
        return TENANT_PLACEHOLDER in self.postgres


AUDIT = (
    "-- View recent job executions\n"
    "SELECT \n"  # the guide's trailing space, kept: verbatim means verbatim
    "  id,\n"
    "  action_type,\n"
    "  details->>'job_name' as job,\n"
    "  details->>'status' as status,\n"
    "  details->>'execution_time_ms' as duration_ms,\n"
    "  timestamp\n"
    "FROM audit_log\n"
    "WHERE action_type = 'background_job_execution'\n"
    "ORDER BY timestamp DESC\n"
    "LIMIT 20;\n"
)

HEARINGS_POSTGRES = """\
-- Check for hearings with missing email addresses
SELECT h.id, h.hearing_date, c.case_number, p.full_name, p.phone
FROM hearings h
JOIN cases c ON h.case_id = c.id
LEFT JOIN profiles p ON c.owner_id = p.id
WHERE h.hearing_date >= NOW()
  AND h.hearing_date <= NOW() + INTERVAL '24 hours'
  AND (p.phone IS NULL OR p.phone = '');
"""

HEARINGS_SQLITE = """\
-- Check for hearings with missing email addresses
SELECT h.id, h.hearing_date, c.case_number, p.full_name, p.phone
FROM hearings h
JOIN cases c ON h.case_id = c.id
LEFT JOIN profiles p ON c.owner_id = p.id
WHERE h.hearing_date >= datetime('now')
  AND h.hearing_date <= datetime('now', '+24 hours')
  AND (p.phone IS NULL OR p.phone = '');
"""

SNAPSHOTS = """\
-- Check if snapshots are being created
SELECT snapshot_date, metric_type, metric_value
FROM analytics_snapshots
WHERE tenant_id = 'your-tenant-id'
ORDER BY snapshot_date DESC
LIMIT 7;
"""

SCHEDULES = """\
-- Check if the schedules are active (jobdeck's schedules table, not pg_cron's cron.job)
SELECT name, cron, timezone, active, paused, last_tick_at
FROM schedules
WHERE active = true
ORDER BY name;
"""

UNREACHABLE_POSTGRES = """\
-- People the hearing reminders cannot reach: neither email nor phone
SELECT h.id, h.hearing_date, c.case_number, p.full_name
FROM hearings h
JOIN cases c ON h.case_id = c.id
JOIN profiles p ON p.id IN (c.owner_id, h.assigned_to)
WHERE h.hearing_date >= NOW()
  AND h.hearing_date <= NOW() + INTERVAL '24 hours'
  AND COALESCE(p.email, '') = '' AND COALESCE(p.phone, '') = '';
"""

UNREACHABLE_SQLITE = (
    UNREACHABLE_POSTGRES.replace("NOW() + INTERVAL '24 hours'", "datetime('now', '+24 hours')")
).replace("NOW()", "datetime('now')")

NOTIFICATIONS = """\
-- Was a hearing reminder sent? One row per notification, newest first
SELECT timestamp, actor, target, details->>'channel' AS channel,
       details->>'subject' AS subject
FROM audit_log
WHERE action_type = 'notification_sent'
ORDER BY timestamp DESC
LIMIT 20;
"""

AUTOMATION = """\
-- Which automation rules fired, newest first (compare with the SLA check's run times)
SELECT l.created_at, r.name AS rule, l.task_id, l.outcome
FROM automation_logs l
JOIN automation_rules r ON r.id = l.rule_id
ORDER BY l.created_at DESC, l.id DESC
LIMIT 20;
"""

QUERIES = (
    GuideQuery(
        "audit",
        "Recent job executions",
        "Reading Job Logs, method 2",
        AUDIT,
        AUDIT,
        verbatim=True,
        note="audit_log is a view jobdeck keeps: one row per finished attempt of every job, "
        "and one per operator action. SQLite (3.38 and later) reads ->> as PostgreSQL does.",
    ),
    GuideQuery(
        "hearings",
        "Hearings in the next 24 hours whose case owner has no phone",
        "Scenario 2, Quick Fix",
        HEARINGS_POSTGRES,
        HEARINGS_SQLITE,
        verbatim=True,
        note="Despite its comment, the guide's query looks for a missing phone number; the "
        "next query finds the people the reminder job counts as failed notifications.",
    ),
    GuideQuery(
        "unreachable",
        "People the hearing reminders cannot reach",
        "Scenario 2 (this demo)",
        UNREACHABLE_POSTGRES,
        UNREACHABLE_SQLITE,
        verbatim=False,
    ),
    GuideQuery(
        "snapshots",
        "Are snapshots being created?",
        "Scenario 3, Verification Query",
        SNAPSHOTS,
        SNAPSHOTS,
        verbatim=True,
        note="Put a tenant id in place of 'your-tenant-id': this demo's are 'acme-legal' "
        "and 'sharma-associates'. Each day has one row per metric (three), so LIMIT 7 "
        "shows a little over two days.",
    ),
    GuideQuery(
        "schedules",
        "Are the schedules active?",
        "Scenario 4, For Admins",
        SCHEDULES,
        SCHEDULES,
        verbatim=False,
        note="jobdeck runs its own scheduler, so there is no cron.job table; its schedules "
        "are rows of the schedules table. From a shell: jobdeck schedules list.",
    ),
    GuideQuery(
        "notifications",
        "Was a hearing reminder sent?",
        "FAQ",
        NOTIFICATIONS,
        NOTIFICATIONS,
        verbatim=False,
    ),
    GuideQuery(
        "automation",
        "Which automation rules fired?",
        "FAQ",
        AUTOMATION,
        AUTOMATION,
        verbatim=False,
    ),
)
BY_KEY = {query.key: query for query in QUERIES}


@dataclass(frozen=True)
class QueryResult:
    sql: str
    columns: list[str]
    rows: list[list[Any]]


def run_query(db: DemoDB, query: GuideQuery, tenant: str | None = None) -> QueryResult:
    """The query in the database's own dialect; the tenant, when it takes one, is bound as a
    parameter in place of the guide's placeholder (never pasted into the text)."""
    sql = query.text(db.dialect)
    params: dict[str, Any] = {}
    if query.takes_tenant:
        sql = sql.replace(TENANT_PLACEHOLDER, ":tenant")
        params["tenant"] = tenant or ""
    with db.transaction() as conn:
        cursor = conn.execute(db.sql(sql), params)
        columns = [c[0] for c in cursor.description or []]
        rows = [list(row) for row in cursor.fetchall()]
    return QueryResult(query.text(db.dialect), columns, rows)
