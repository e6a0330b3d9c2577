"""The litigation system's five scheduled jobs (guide 002), on the demo's cases, tasks,
hearings, profiles, automation rules and logs, analytics snapshots and notifications."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from jobdeck import accounts
from jobdeck.demo.app import db, deck, mailer
from jobdeck.errors import DeliveryError

# Real jobs take seconds ("most complete in 2-10 seconds, analytics snapshots up to 30"), the
# demo's data milliseconds: each job takes as long as its work would, times this factor, so an
# operator sees Running on a card. `jobdeck demo` sets 1; imported elsewhere (tests) it is 0.
PACE_ENV = "JOBDECK_DEMO_PACE"


def take_time(seconds: float, ceiling: float) -> None:
    """Take as long as work of ``seconds`` would (at most ``ceiling``), scaled by the pace."""
    pace = float(os.environ.get(PACE_ENV) or 0)
    if pace > 0:
        time.sleep(min(seconds, ceiling) * pace)


@deck.periodic(
    name="check-sla-and-overdue",
    cron="*/15 * * * *",
    timezone="Asia/Kolkata",
    title="SLA & Overdue Check",
    description="Checks tasks for SLA violations",
    expected_max_age="15m",
    alert_after="30m",
    timeout=60,
)
def check_sla_and_overdue() -> dict[str, Any]:
    now = deck.clock.now()
    overdue = db().rows(
        "SELECT t.id, t.due_at, c.tenant_id FROM tasks t JOIN cases c ON c.id = t.case_id "
        "WHERE t.status <> 'done' AND t.due_at < :now",
        {"now": now},
    )
    violations = db().rows("SELECT id, created_at, sla_hours FROM cases WHERE status = 'active'")
    sla_violations = sum(
        1
        for case in violations
        if _started(case) + timedelta(hours=case["sla_hours"]) < now and _has_open_work(case["id"])
    )
    triggered = _apply_automation_rules(overdue, now)
    count = len(overdue)
    take_time(2 + 0.2 * len(violations) + 0.1 * count, 10)
    return {
        "overdue_tasks": count,
        "sla_violations": sla_violations,
        "automation_rules_triggered": triggered,
        "summary": f"{count} overdue task{'s' if count != 1 else ''} found",
    }


def _started(case: dict[str, Any]) -> Any:
    return db().time(case["created_at"])


def _has_open_work(case_id: int) -> bool:
    return bool(
        db().rows(
            "SELECT 1 AS x FROM tasks WHERE case_id = :id AND status <> 'done'", {"id": case_id}
        )
    )


def _apply_automation_rules(overdue: list[dict[str, Any]], now: Any) -> int:
    rules = db().rows("SELECT id, tenant_id, overdue_days FROM automation_rules WHERE active = 1")
    triggered = 0
    with db().transaction() as conn:
        for rule in rules:
            for task in overdue:
                late = now - db().time(task["due_at"])
                if task["tenant_id"] == rule["tenant_id"] and late > timedelta(
                    days=rule["overdue_days"]
                ):
                    db().execute_in(
                        conn,
                        "INSERT INTO automation_logs (rule_id, task_id, outcome, "
                        "created_at) VALUES (:rule, :task, 'escalated', :now)",
                        {"rule": rule["id"], "task": task["id"], "now": now},
                    )
                    triggered += 1
    return triggered


@deck.periodic(
    name="send-hearing-reminders",
    cron="0 8 * * *",
    timezone="Asia/Kolkata",
    title="Hearing Reminders",
    description="Sends daily hearing reminders",
    timeout=120,
    expected_max_age="24h",
    alert_after="36h",
)
def send_hearing_reminders() -> dict[str, Any]:
    """Remind the case owner and the assignee of each hearing in the next 24 hours."""
    now = deck.clock.now()
    hearings = db().rows(
        "SELECT h.id, h.hearing_date, h.court, h.assigned_to, c.case_number, c.owner_id "
        "FROM hearings h JOIN cases c ON h.case_id = c.id "
        "WHERE h.hearing_date >= :now AND h.hearing_date <= :until",
        {"now": now, "until": now + timedelta(hours=24)},
    )
    sent = failed = 0
    for hearing in hearings:
        for profile_id in {hearing["owner_id"], hearing["assigned_to"]} - {None}:
            if _notify(hearing, profile_id):
                sent += 1
            else:
                failed += 1
    take_time(2 + 0.5 * len(hearings), 10)
    return {
        "hearings_processed": len(hearings),
        "notifications_sent": sent,
        "failed_notifications": failed,
        "summary": f"{sent} reminders sent for {len(hearings)} hearings"
        + (f", {failed} failed" if failed else ""),
    }


def _notify(hearing: dict[str, Any], profile_id: int) -> bool:
    person = db().rows(
        "SELECT id, full_name, email, phone FROM profiles WHERE id = :id", {"id": profile_id}
    )
    if not person or not (person[0]["email"] or person[0]["phone"]):
        return False  # no way to reach them: counted, not a crash
    who = person[0]
    when = db().time(hearing["hearing_date"])
    subject = f"Hearing {hearing['case_number']} at {when:%d %b %H:%M} UTC"
    channel = "email" if who["email"] else "sms"
    try:
        if who["email"]:
            mailer().send(
                who["email"],
                subject,
                f"{who['full_name']}, your hearing is at {hearing['court']}.\n",
            )
    except DeliveryError:
        return False
    db().execute(
        "INSERT INTO notifications (profile_id, channel, subject, status, created_at) "
        "VALUES (:profile, :channel, :subject, 'sent', :now)",
        {"profile": who["id"], "channel": channel, "subject": subject, "now": deck.clock.now()},
    )
    accounts.audit(
        deck.store,
        deck.clock,
        accounts.Actor("send-hearing-reminders", "service"),
        "notification_sent",
        f"hearing {hearing['id']}",
        {"profile_id": who["id"], "channel": channel, "subject": subject},
    )
    return True


@deck.periodic(
    name="capture-analytics-snapshot",
    cron="55 23 * * *",
    timezone="Asia/Kolkata",
    title="Analytics Snapshot",
    description="Captures daily metrics per tenant",
    timeout=120,
    expected_max_age="24h",
    alert_after="36h",
)
def capture_analytics_snapshot() -> dict[str, Any]:
    now = deck.clock.now()
    day = now.date().isoformat()
    metrics = {
        "active_cases": "SELECT COUNT(*) AS n FROM cases "
        "WHERE tenant_id = :t AND status = 'active'",
        "open_tasks": "SELECT COUNT(*) AS n FROM tasks t JOIN cases c ON c.id = t.case_id "
        "WHERE c.tenant_id = :t AND t.status <> 'done'",
        "hearings_next_7d": "SELECT COUNT(*) AS n FROM hearings h JOIN cases c ON c.id = h.case_id "
        "WHERE c.tenant_id = :t AND h.hearing_date >= :now "
        "AND h.hearing_date <= :week",
    }
    tenants = [row["id"] for row in db().rows("SELECT id FROM tenants ORDER BY id")]
    written = 0
    for tenant in tenants:
        values = {
            metric: db().rows(sql, {"t": tenant, "now": now, "week": now + timedelta(days=7)})[0][
                "n"
            ]
            for metric, sql in metrics.items()
        }
        # One snapshot per tenant per day: a re-run (Run Now, a retry) replaces the day's rows.
        with db().transaction() as conn:
            db().execute_in(
                conn,
                "DELETE FROM analytics_snapshots WHERE tenant_id = :t AND snapshot_date = :d",
                {"t": tenant, "d": day},
            )
            for metric, value in values.items():
                db().execute_in(
                    conn,
                    "INSERT INTO analytics_snapshots (tenant_id, snapshot_date, metric_type, "
                    "metric_value, created_at) VALUES (:t, :d, :m, :v, :now)",
                    {"t": tenant, "d": day, "m": metric, "v": value, "now": now},
                )
                written += 1
    take_time(5 + 0.5 * written, 30)
    return {
        "tenants": len(tenants),
        "metrics_written": written,
        "summary": f"{written} metrics captured for {len(tenants)} tenants",
    }


@deck.periodic(
    name="send-deadline-alerts",
    cron="0 9 * * *",
    timezone="Asia/Kolkata",
    title="Deadline Alerts",
    description="Alerts assignees of tasks due within 3 days",
    timeout=120,
    expected_max_age="24h",
    alert_after="36h",
)
def send_deadline_alerts() -> dict[str, Any]:
    now = deck.clock.now()
    due = db().rows(
        "SELECT id, title, assigned_to FROM tasks WHERE status <> 'done' "
        "AND due_at >= :now AND due_at <= :soon",
        {"now": now, "soon": now + timedelta(days=3)},
    )
    with db().transaction() as conn:
        for task in due:
            db().execute_in(
                conn,
                "INSERT INTO notifications (profile_id, channel, subject, status, "
                "created_at) VALUES (:p, 'in_app', :s, 'sent', :now)",
                {"p": task["assigned_to"], "s": f"Due soon: {task['title']}", "now": now},
            )
    take_time(2 + 0.3 * len(due), 10)
    return {
        "tasks_due_soon": len(due),
        "alerts_sent": len(due),
        "summary": f"{len(due)} deadline alerts sent",
    }


@deck.periodic(
    name="automation-health-check",
    cron="30 6 * * *",
    timezone="Asia/Kolkata",
    title="Automation Health Check",
    description="Checks that automation rules are active and firing",
    timeout=60,
    expected_max_age="24h",
    alert_after="36h",
)
def automation_health_check() -> dict[str, Any]:
    now = deck.clock.now()
    rules = db().rows("SELECT id, name, active FROM automation_rules")
    quiet = [
        r["name"]
        for r in rules
        if r["active"]
        and not db().rows(
            "SELECT 1 AS x FROM automation_logs WHERE rule_id = :id AND created_at >= :since",
            {"id": r["id"], "since": now - timedelta(days=7)},
        )
    ]
    take_time(2 + 0.3 * len(rules), 10)
    return {
        "rules_checked": len(rules),
        "rules_without_recent_activity": len(quiet),
        "quiet_rules": quiet,
        "summary": f"{len(rules) - len(quiet)} of {len(rules)} rules active this week",
    }
