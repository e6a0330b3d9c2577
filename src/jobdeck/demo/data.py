"""Seed records for the demo: two law-firm tenants with cases, tasks, hearings and people,
and an expert platform with experts and trials. Deterministic, so a reset looks the same."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from jobdeck.demo.db import DemoDB

UNREACHABLE_PROFILE = 4  # Rohit Gupta: no email, no phone

TENANTS = [("acme-legal", "Acme Legal LLP"), ("sharma-associates", "Sharma & Associates")]
COURTS = ["GST Appellate Tribunal, Delhi", "High Court of Bombay", "CESTAT Mumbai"]
PEOPLE = [
    ("Asha Rao", "asha.rao@acme.example", "+91 98200 11111", "partner"),
    ("Vikram Shah", "vikram.shah@acme.example", None, "advocate"),
    ("Meera Iyer", None, "+91 98200 22222", "ca"),
    ("Rohit Gupta", None, None, "advocate"),  # no email, no phone: a counted failure
    ("Leela Menon", "leela.menon@sharma.example", None, "manager"),
    ("Karan Mehta", "karan.mehta@sharma.example", "+91 98200 33333", "partner"),
]


def seed(db: DemoDB, now: datetime) -> None:
    """Insert demo records unless they are there already (a restart keeps its data)."""
    if db.rows("SELECT COUNT(*) AS n FROM tenants")[0]["n"]:
        return
    rng = random.Random(42)
    with db.transaction() as conn:
        for tenant_id, name in TENANTS:
            db.execute_in(
                conn,
                "INSERT INTO tenants (id, name) VALUES (:id, :name)",
                {"id": tenant_id, "name": name},
            )
        for index, (full_name, email, phone, role) in enumerate(PEOPLE):
            db.execute_in(
                conn,
                "INSERT INTO profiles (tenant_id, full_name, email, phone, role) "
                "VALUES (:tenant, :name, :email, :phone, :role)",
                {
                    "tenant": TENANTS[index // 4][0],
                    "name": full_name,
                    "email": email,
                    "phone": phone,
                    "role": role,
                },
            )
        _cases_and_work(db, conn, rng, now)
        _experts(db, conn, rng, now)


def _cases_and_work(db: DemoDB, conn: object, rng: random.Random, now: datetime) -> None:
    for number in range(1, 25):
        tenant = TENANTS[number % 2][0]
        owner = rng.randint(1, len(PEOPLE))
        created = now - timedelta(days=rng.randint(1, 60))
        db.execute_in(
            conn,
            "INSERT INTO cases (tenant_id, case_number, title, owner_id, "
            "sla_hours, status, created_at) VALUES (:tenant, :number, :title, :owner, "
            ":sla, :status, :created)",
            {
                "tenant": tenant,
                "number": f"GST/{2025}/{number:04d}",
                "title": f"Appeal against demand order #{number}",
                "owner": owner,
                "sla": rng.choice([48, 72, 120]),
                "status": "active",
                "created": created,
            },
        )
        for task_number in range(rng.randint(2, 5)):
            due = now + timedelta(hours=rng.randint(-96, 120))
            db.execute_in(
                conn,
                "INSERT INTO tasks (case_id, title, assigned_to, due_at, status, "
                "created_at) VALUES (:case, :title, :assignee, :due, :status, :created)",
                {
                    "case": number,
                    "title": f"Draft reply {task_number + 1}",
                    "assignee": rng.randint(1, len(PEOPLE)),
                    "due": due,
                    "status": "done" if rng.random() < 0.3 else "open",
                    "created": created,
                },
            )
        if number % 3 == 0:
            db.execute_in(
                conn,
                "INSERT INTO hearings (case_id, hearing_date, assigned_to, court) "
                "VALUES (:case, :date, :assignee, :court)",
                {
                    "case": number,
                    "date": now + timedelta(hours=rng.randint(2, 40)),
                    "assignee": rng.randint(1, len(PEOPLE)),
                    "court": rng.choice(COURTS),
                },
            )
    # A hearing tomorrow for the one person with neither email nor phone: the reminder job must
    # count it as a failed notification, not crash (the guide's Scenario 2).
    db.execute_in(
        conn,
        "INSERT INTO hearings (case_id, hearing_date, assigned_to, court) "
        "VALUES (1, :date, :unreachable, :court)",
        {"date": now + timedelta(hours=6), "unreachable": UNREACHABLE_PROFILE, "court": COURTS[0]},
    )
    for tenant_id, _ in TENANTS:
        for name, days in (
            ("Escalate tasks overdue by 2 days", 2),
            ("Notify partner at 4 days", 4),
        ):
            db.execute_in(
                conn,
                "INSERT INTO automation_rules (tenant_id, name, overdue_days, "
                "active) VALUES (:tenant, :name, :days, 1)",
                {"tenant": tenant_id, "name": name, "days": days},
            )


def _experts(db: DemoDB, conn: object, rng: random.Random, now: datetime) -> None:
    for number in range(1, 31):
        db.execute_in(
            conn,
            "INSERT INTO experts (name, email, claim_verified, created_at) "
            "VALUES (:name, :email, 0, :created)",
            {
                "name": f"Expert {number}",
                "email": f"expert{number}@experts.example",
                "created": now - timedelta(days=rng.randint(0, 20)),
            },
        )
        db.execute_in(
            conn,
            "INSERT INTO trials (expert_id, ends_at, reminded, expired) "
            "VALUES (:expert, :ends, 0, 0)",
            {"expert": number, "ends": now + timedelta(hours=rng.randint(-48, 96))},
        )


HISTORY_DAYS = 13  # snapshots before today, as if the nightly job had run for two weeks
# Scenario 3 of the guide: last night's snapshot of this tenant says 0 active cases.
EMPTY_SNAPSHOT_TENANT = "acme-legal"


def seed_history(db: DemoDB, now: datetime) -> int:
    """Back-filled analytics snapshots for the two weeks before today, unless there are any:
    the analytics dashboard has a history to chart from the first start. Yesterday's row for
    ``EMPTY_SNAPSHOT_TENANT`` reads 0 active cases, the guide's Scenario 3 to walk through."""
    today = now.date()
    older = db.rows(
        "SELECT COUNT(*) AS n FROM analytics_snapshots WHERE snapshot_date < :today",
        {"today": today.isoformat()},
    )
    if older[0]["n"]:
        return 0
    rng = random.Random(3)
    written = 0
    with db.transaction() as conn:
        for back in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=back)
            taken = datetime.combine(day, time(18, 25), tzinfo=UTC)  # 23:55 in Asia/Kolkata
            for tenant_id, _ in TENANTS:
                values = {
                    "active_cases": 12 - back // 4 + rng.randint(-1, 1),
                    "open_tasks": 30 + rng.randint(-6, 6) - back // 2,
                    "hearings_next_7d": rng.randint(2, 6),
                }
                if back == 1 and tenant_id == EMPTY_SNAPSHOT_TENANT:
                    values = dict.fromkeys(values, 0)
                for metric, value in values.items():
                    db.execute_in(
                        conn,
                        "INSERT INTO analytics_snapshots (tenant_id, snapshot_date, metric_type, "
                        "metric_value, created_at) VALUES (:t, :d, :m, :v, :at)",
                        {
                            "t": tenant_id,
                            "d": day.isoformat(),
                            "m": metric,
                            "v": value,
                            "at": taken,
                        },
                    )
                    written += 1
    return written


def reseed(db: DemoDB, now: datetime) -> dict[str, int]:
    """Data Seeding: the seeded records again, with dates relative to ``now``. What the jobs
    derived from the old ones (escalations, notifications, snapshots) goes with them."""
    db.empty_seeded_tables()
    seed(db, now)
    seed_history(db, now)
    return seeded_counts(db, now)


def seeded_counts(db: DemoDB, now: datetime) -> dict[str, int]:
    counts = {
        table: db.rows(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]  # names are ours
        for table in ("cases", "tasks", "hearings", "profiles", "experts", "analytics_snapshots")
    }
    counts["overdue_tasks"] = db.rows(
        "SELECT COUNT(*) AS n FROM tasks WHERE status <> 'done' AND due_at < :now", {"now": now}
    )[0]["n"]
    return counts
