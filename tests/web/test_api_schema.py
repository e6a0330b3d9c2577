"""schemathesis against /api/openapi.json with an admin token: no 5xx, every response matches
the schema (errors included)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from jobdeck import JobDeck, accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.store import open_store
from jobdeck.store.base import WorkerInfo
from jobdeck.web.app import create_app

# The bar: no 5xx, and every response (errors too) matches the schema. Business-rule
# refusals of schema-valid input (an unknown role, a duplicate email) are legitimate 400s.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def build_api(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'api.db'}"
    open_store(url).migrate()
    deck = JobDeck(url)

    @deck.periodic(name="check-sla-and-overdue", cron="*/15 * * * *")
    def check() -> dict[str, int]:
        return {"overdue_tasks": 1}

    from jobdeck.scheduler import Scheduler

    Scheduler(deck).sync()
    deck.tasks["check-sla-and-overdue"].enqueue()
    now = deck.clock.now()  # a live worker, so /health answers 200 rather than its 503
    deck.store.register_worker(WorkerInfo("w1", "host", 1, ["default"], 1, now, now))
    secret, _ = accounts.create_token(
        deck.store, deck.clock, AccessPolicy(), Actor("test"), "schemathesis", "admin"
    )
    app = create_app(deck)
    api = next(route.app for route in app.routes if getattr(route, "path", "") == "/api")
    return api, secret


def test_api_conforms_to_its_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    api, secret = build_api(tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    failures = []

    for operation in schema.get_all_operations():
        strategy = operation.ok().as_strategy()

        @settings(
            max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers={"Authorization": f"Bearer {secret}"})
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:300]}")

        from hypothesis import given

        given(strategy)(check)()
    assert not failures, "\n".join(failures[:10])
