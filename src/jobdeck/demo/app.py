"""Example tasks modelled on the expert platform's jobs; a few fail the way real jobs fail."""

from __future__ import annotations

import asyncio
import random
import time

from jobdeck import JobDeck

deck = JobDeck()


class SmtpTemporaryError(Exception):
    """Stands in for a mail server's 4xx answer: worth retrying."""


@deck.task(
    name="send_claim_verification_email",
    max_attempts=3,
    timeout=30,
    labels={"event_type": "claim_verification"},
    retry_backoff=1.0,
)
def send_claim_verification_email(user_id: int, email: str) -> dict[str, object]:
    time.sleep(random.uniform(0.05, 0.3))
    if random.random() < 0.05:
        raise SmtpTemporaryError(f"451 4.7.1 try again later ({email})")
    return {"user_id": user_id, "email": email, "delivered": True}


@deck.task(name="check_trial_reminders", timeout=60)
async def check_trial_reminders() -> dict[str, object]:
    await asyncio.sleep(random.uniform(0.1, 0.4))
    due = random.randint(0, 6)
    return {"trials_checked": 40, "reminders_due": due, "summary": f"{due} trial reminders due"}


@deck.task(name="process_trial_expirations", timeout=60, max_attempts=2)
def process_trial_expirations() -> dict[str, object]:
    time.sleep(random.uniform(0.1, 0.5))
    expired = random.randint(0, 3)
    return {"expired": expired, "summary": f"{expired} trials expired"}


@deck.task(name="process_document", timeout=5, max_attempts=2, retry_backoff=1.0)
def process_document(document_id: int, filename: str) -> dict[str, object]:
    time.sleep(random.uniform(0.1, 0.6))
    if filename.endswith(".pdf") and random.random() < 0.08:
        raise ValueError(f"{filename}: corrupt PDF (no xref table found)")
    return {"document_id": document_id, "characters": random.randint(800, 9000)}
