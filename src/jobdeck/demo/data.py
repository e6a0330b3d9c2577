"""Seed records for the demo: two law-firm tenants with cases, tasks, hearings and people,
and an expert platform with experts and trials. Deterministic, so a reset looks the same."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

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
