"""A dashboard app over a fresh database, with one user per role and helpers to sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from jobdeck import JobDeck, ManualClock, accounts
from jobdeck.accounts import AccessPolicy, Actor

ROLES = ["admin", "partner", "attorney", "manager", "ca", "advocate", "user"]
PASSWORD = "correct horse battery"


@dataclass
class Site:
    deck: JobDeck
    clock: ManualClock
    app: object

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)  # type: ignore[arg-type]

    def login(self, email: str, password: str = PASSWORD) -> TestClient:
        client = self.client()
        response = sign_in(client, email, password)
        assert response.status_code == 303, response.text
        return client


def sign_in(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def csrf_of(client: TestClient) -> str:
    page = client.get("/jobs")
    if page.status_code != 200:
        page = client.get("/login")
    match = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    )
    return match.group(1) if match else ""


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    clock = ManualClock(datetime.now(UTC))
    deck = JobDeck(db_url, clock=clock)

    @deck.periodic(name="check-sla-and-overdue", cron="*/15 * * * *", title="SLA & Overdue Check")
    def check_sla() -> dict[str, int]:
        return {"overdue_tasks": 0}

    @deck.task(name="send_email")
    def send_email(to: str) -> dict[str, bool]:
        return {"sent": True}

    from jobdeck.worker.scheduler import Scheduler

    Scheduler(deck).sync()
    for role in ROLES:
        accounts.add_user(
            deck.store, clock, AccessPolicy(), Actor("test"), f"{role}@example.com", PASSWORD, role
        )
    yield Site(deck, clock, deck.asgi())
    deck.close()
