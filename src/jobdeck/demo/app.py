"""The demo app: the expert platform's jobs and the litigation system's scheduled jobs, as in
the two product guides, doing real work on the demo tables. Run it with ``jobdeck demo``."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import Any

from jobdeck import JobDeck
from jobdeck.alerts.channels import EmailSender, SmtpSettings
from jobdeck.demo.db import DemoDB

deck = JobDeck(
    heartbeat_interval=2.0,
    lease_duration=10.0,
    rescue_interval=3.0,
    shutdown_grace=10.0,
    concurrency=4,
)

SMTP_ENV = "JOBDECK_DEMO_SMTP"  # host:port of the demo's own SMTP server


@cache
def db() -> DemoDB:
    return DemoDB(deck.store)


def mailer() -> EmailSender:
    host, _, port = os.environ.get(SMTP_ENV, "127.0.0.1:2525").rpartition(":")
    return EmailSender(SmtpSettings(host=host, port=int(port), sender="noreply@jobdeck.demo"))


def _one(sql: str, **params: Any) -> dict[str, Any]:
    rows = db().rows(sql, params)
    if not rows:
        raise LookupError(f"no row for {params}")
    return rows[0]


# -- expert platform (guide 000) ------------------------------------------------------------------


@deck.task(
    name="send_claim_verification_email",
    max_attempts=3,
    timeout=30,
    retry_backoff=2.0,
    labels={"event_type": "claim_verification"},
)
def send_claim_verification_email(expert_id: int) -> dict[str, Any]:
    """Email an expert the link that verifies their profile claim."""
    expert = _one("SELECT id, name, email FROM experts WHERE id = :id", id=expert_id)
    message_id = mailer().send(
        expert["email"],
        "Verify your expert profile",
        f"Hello {expert['name']},\n\nConfirm your claim: "
        f"https://experts.example/verify/{expert_id}\n",
    )
    db().execute("UPDATE experts SET claim_verified = 1 WHERE id = :id", {"id": expert_id})
    return {"expert_id": expert_id, "email": expert["email"], "message_id": message_id}


@deck.periodic(
    name="check_trial_reminders",
    every="5m",
    title="Trial Reminders",
    description="Emails experts whose free trial ends within 24 hours",
    expected_max_age="5m",
    alert_after="15m",
)
def check_trial_reminders() -> dict[str, Any]:
    now = deck.clock.now()
    due = db().rows(
        "SELECT t.id, e.email, e.name FROM trials t JOIN experts e ON e.id = t.expert_id "
        "WHERE t.reminded = 0 AND t.expired = 0 AND t.ends_at > :now AND t.ends_at <= :soon",
        {"now": now, "soon": now + timedelta(hours=24)},
    )
    sender = mailer()
    for trial in due:
        sender.send(
            trial["email"],
            "Your trial ends tomorrow",
            f"Hello {trial['name']}, your jobdeck experts trial ends within 24 hours.\n",
        )
        db().execute("UPDATE trials SET reminded = 1 WHERE id = :id", {"id": trial["id"]})
    return {"reminders_sent": len(due), "summary": f"{len(due)} trial reminders sent"}


@deck.periodic(
    name="process_trial_expirations",
    every="10m",
    title="Trial Expirations",
    description="Ends trials whose time is up",
    expected_max_age="10m",
    alert_after="30m",
)
def process_trial_expirations() -> dict[str, Any]:
    expired = db().execute(
        "UPDATE trials SET expired = 1 WHERE expired = 0 AND ends_at <= :now",
        {"now": deck.clock.now()},
    )
    return {"trials_expired": expired, "summary": f"{expired} trials expired"}


# -- document pipeline (guide 000): process_document and index_document_chunks ------------------

from jobdeck.contrib.documents import LocalStorage, install_documents  # noqa: E402

documents = install_documents(deck, LocalStorage(os.path.join("demo-data", "documents")))

# -- litigation system (guide 002) -------------------------------------------------------------

from jobdeck.demo import litigation  # noqa: E402  (registers the five scheduled jobs on deck)

__all__ = [
    "check_trial_reminders",
    "deck",
    "litigation",
    "process_trial_expirations",
    "send_claim_verification_email",
]
