"""Decks the browser tests serve: real tasks and schedules, run by real in-thread workers.

The main deck mirrors the guides: a labelled email task that succeeds, a document task that
fails with a deep traceback, a task whose error and data carry HTML payloads, and three
schedules: one that succeeds (a test can hold it Running), one that fails, and one that is
stale from the start.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from jobdeck import JobDeck

XSS_ERROR = "<img src=x onerror=alert(1)>"
XSS_LABEL = "<script>alert('label')</script>"
XSS_ARG = "<script>alert('arg')</script><b>bold?</b>"
XSS_RESULT = "<script>alert('result')</script>"
HEARING_ERROR = "SMTP connection refused <img src=x onerror=alert(2)>"
SLA_SUMMARY = "5 overdue tasks found"
# The SLA check runs until this is set: a test holds it to watch the run while it is Running
# (and to click Run Now again meanwhile) without guessing how long a run takes on a busy machine.
SLA_GATE = threading.Event()
SLA_GATE.set()

# Workers beat every 0.3 s with 2 s leases. The dashboard judges health by its deck's
# heartbeat_interval (healthy while a beat is younger than three of them): 1 s here, so a
# busy test machine delaying one beat does not flip the pill, while a stopped worker still
# turns it red at once (a clean stop marks the worker stopped).
WORKER_HEARTBEAT = 0.3
# The suite presses Run Now on the same schedules test after test, seconds apart: these decks
# turn the cooldown off (tests/browser/test_run_now.py covers it on a deck of its own).
NO_COOLDOWN = {"run_now_cooldown": 0}
FAST: dict[str, Any] = {
    "heartbeat_interval": 1.0,
    "lease_duration": 2.0,
    "rescue_interval": 0.5,
    "poll_interval": 0.05,
    "backoff_base": 0.05,
    "shutdown_grace": 3.0,
    "concurrency": 8,
    "scheduler_interval": 0.5,
    "stale_check_interval": 1.0,
}


class ShiftedClock:
    """The system clock moved back by ``offset``: a worker on it writes history in the past."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) - self.offset


def make_main_deck(url: str, **options: Any) -> JobDeck:
    deck = JobDeck(url, **{**FAST, **options})

    @deck.task(name="send_claim_verification_email", labels={"event_type": "claim_verification"})
    def send_claim_verification_email(user_id: int, email: str) -> dict[str, Any]:
        return {"delivered": True, "user_id": user_id, "email": email, "template": "claim_v2"}

    @deck.task(name="process_document", max_attempts=2)
    def process_document(document_id: int, depth: int = 30) -> dict[str, Any]:
        if depth > 0:
            return process_document(document_id, depth - 1)
        raise ValueError(f"corrupt PDF: document {document_id} has no text layer")

    @deck.task(name="render_preview", max_attempts=1)
    def render_preview(html: str, fail: bool) -> dict[str, Any]:
        if fail:
            raise ValueError(XSS_ERROR)
        return {"html": html, "note": XSS_RESULT}

    @deck.periodic(
        name="check-sla-and-overdue",
        cron="*/15 * * * *",
        title="SLA & Overdue Check",
        **NO_COOLDOWN,
        description="Checks tasks for SLA violations and flags overdue work.",
        expected_max_age="15m",
        alert_after="30m",
    )
    def check_sla_and_overdue() -> dict[str, Any]:
        if not SLA_GATE.wait(timeout=30):
            raise TimeoutError("the test never released the SLA check")
        return {"overdue_tasks": 5, "sla_violations": 2, "summary": SLA_SUMMARY}

    @deck.periodic(
        name="send-hearing-reminders",
        cron="0 8 * * *",
        timezone="Asia/Kolkata",
        title="Hearing Reminders",
        **NO_COOLDOWN,
        description="Sends daily hearing reminders to team members.",
        expected_max_age="24h",
        alert_after="36h",
        max_attempts=1,
    )
    def send_hearing_reminders() -> dict[str, Any]:
        raise RuntimeError(HEARING_ERROR)

    @deck.periodic(
        name="analytics-snapshot",
        cron="0 3 1 1 *",
        title="Analytics Snapshot",
        **NO_COOLDOWN,
        description="Captures an analytics snapshot for historical reporting.",
        expected_max_age="1s",
        alert_after="1s",
    )
    def analytics_snapshot() -> dict[str, Any]:
        return {"summary": "snapshot captured"}

    return deck


def make_small_deck(url: str, **options: Any) -> JobDeck:
    """One task and one never-run schedule: a healthy deck while a worker beats."""
    deck = JobDeck(url, **{**FAST, **options})

    @deck.task(name="ping")
    def ping(n: int) -> dict[str, Any]:
        return {"pong": n, "summary": f"pong {n}"}

    @deck.periodic(
        name="nightly-cleanup",
        cron="0 2 * * *",
        title="Nightly Cleanup",
        **NO_COOLDOWN,
        description="Removes expired sessions.",
    )
    def nightly_cleanup() -> dict[str, Any]:
        return {"removed": 3, "summary": "3 sessions removed"}

    return deck
