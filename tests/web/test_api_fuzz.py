"""schemathesis against every /api operation, with an admin token over seeded jobs, schedules,
users and tokens: schema-valid and schema-violating requests alike get no 5xx, and every answer
(errors included) matches /api/openapi.json. Both stores: SQLite overflows where PostgreSQL
refuses NUL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jobdeck import JobDeck, accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.store.base import JobFilter, WorkerInfo
from jobdeck.web.app import create_app
from jobdeck.worker.scheduler import Scheduler
from tests.worker.helpers import FAST, running_worker, wait_until

# Generated requests reach each dialect's SQL differently.
pytestmark = pytest.mark.both_stores

# Per operation and generation mode, new values on every run (no example database): 15, not
# 25, since the suite became CPU-bound; both stores take about 80 s of a test process.
EXAMPLES = 15
# A request that fits the schema may still break a rule no schema holds: a role this deck does
# not define, an email already taken. Those are 400s (409 for a state); 422 would mean the
# schema promised more than the API takes, and stays a failure.
ACCEPTED = ["2xx", "400", "401", "403", "404", "409"]
# Except where the body is checked against a task's signature, which no schema of the API
# states (each deck has its own tasks): POST /jobs answers a schema-valid body whose args the
# task does not take with its one-line 422 naming the argument.
SIGNATURE_CHECKED = {("POST", "/jobs")}


def api_of(deck: JobDeck) -> Any:
    app = create_app(deck)
    return next(route.app for route in app.routes if getattr(route, "path", "") == "/api")


# The schema needs no database: the deck opens its store on first use, and this one never does.
schema = schemathesis.openapi.from_dict(api_of(JobDeck("sqlite:///never-opened.db")).openapi())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
)
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=ACCEPTED
)


# One seeded deck per store for every operation: seeding it took 1.7 s, 60 times over (the
# fuzzed requests may change it, as a user would; no test reads what another wrote).
@pytest.fixture(scope="module")
def api(module_db_url: str) -> Iterator[tuple[Any, str]]:
    """The API over a deck with history: finished, failed and pending jobs, two schedules (one
    with a dotted name), a live worker, users, a revoked token and an admin token to fuzz with."""
    # The registered worker below must stay fresh (3 heartbeats) for the whole run of examples,
    # which under a loaded machine outlasts FAST's 0.6 s: /health then answered 503.
    deck = JobDeck(module_db_url, **{**FAST, "heartbeat_interval": 600.0, "lease_duration": 1200.0})
    deck.periodic(name="app.tasks.nightly_report", cron="0 3 * * *")(lambda: {"rows": 3})
    deck.periodic(name="check-sla-and-overdue", cron="*/15 * * * *", expected_max_age=900)(
        lambda: {"overdue": 0}
    )

    @deck.task(name="send_email", max_attempts=1)
    def send_email(to: str) -> dict[str, bool]:
        if to.startswith("bad"):
            raise ValueError("mailbox unavailable")
        return {"sent": True}

    Scheduler(deck).sync()
    with running_worker(deck, scheduler_enabled=False):
        deck.run_now("app.tasks.nightly_report", by="fixture")
        for to in ("a@example.com", "bad@example.com", "b@example.com"):
            send_email.enqueue(to=to)
        wait_until(lambda: unfinished(deck) == 0, 30, "the seeded jobs to finish")
    send_email.enqueue(to="pending@example.com")
    now = deck.clock.now()  # a live worker, so /health answers 200 rather than its 503
    deck.store.register_worker(WorkerInfo("w1", "host", 1, ["default"], 1, now, now))
    policy, actor = AccessPolicy(), Actor("fixture")
    accounts.add_user(deck.store, deck.clock, policy, actor, "ops@example.com", "x" * 12, "partner")
    _, old = accounts.create_token(deck.store, deck.clock, policy, actor, "old", "partner")
    accounts.revoke_token(deck.store, deck.clock, actor, old.id)
    secret, _ = accounts.create_token(deck.store, deck.clock, policy, actor, "fuzz", "admin")
    try:
        yield api_of(deck), secret
    finally:
        deck.close()


def unfinished(deck: JobDeck) -> int:
    return sum(1 for job in deck.store.list_jobs(JobFilter(), None, 100) if not job.state.is_final)


@schema.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_request_as_its_schema_says(case: Any, api: tuple[Any, str]) -> None:
    app, secret = api
    headers = {"Authorization": f"Bearer {secret}"}
    if (case.method.upper(), case.path) not in SIGNATURE_CHECKED:
        case.call_and_validate(app=app, headers=headers)
        return
    response = case.call_and_validate(
        app=app, headers=headers, excluded_checks=[positive_data_acceptance]
    )
    if response.status_code == 422:
        message = response.json()["error"]["message"]
        assert message and "\n" not in message
