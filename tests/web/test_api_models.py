"""The API's record models are their records' fields: every one not hidden, in the record's
order, with the record's values; a hidden one (a password hash) is never answered."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from jobdeck import JobDeck
from jobdeck.states import JobState
from jobdeck.store.base import JobRow
from jobdeck.web.access import local_operator
from jobdeck.web.api import models
from jobdeck.web.api.models import JobOut, RecordOut


def record_models() -> list[type[RecordOut]]:
    found = [m for m in vars(models).values() if isinstance(m, type) and issubclass(m, RecordOut)]
    return [m for m in found if m.record is not None]


def test_every_record_model_holds_its_records_fields_in_order() -> None:
    assert len(record_models()) >= 10
    for model in record_models():
        assert model.record is not None
        names = [f.name for f in dataclasses.fields(model.record)]
        assert model.hidden <= set(names), (model, model.hidden - set(names))
        kept = [name for name in names if name not in model.hidden]
        assert list(model.model_fields)[: len(kept)] == kept, model
        assert not model.hidden & set(model.model_fields), model


def test_a_job_is_answered_with_the_values_of_its_row() -> None:
    at = datetime(2025, 1, 31, 9, 30, tzinfo=UTC)
    values = {f.name: None for f in dataclasses.fields(JobRow)}
    values.update(id=7, task="send", queue="default", args={"to": "a"}, labels={}, priority=0)
    values.update(state=JobState.FAILED, attempt=3, max_attempts=3, enqueued_at=at, run_at=at)
    values.update(trigger="code", result={"sent": False}, error="boom")
    job = JobRow(**values)
    out = JobOut.of(job).model_dump()
    for name in JobOut.model_fields.keys() - {"badge"}:
        assert out[name] == getattr(job, name), name
    assert out["state"] == "failed" and out["badge"] == JobState.FAILED.badge


def test_users_are_answered_without_their_password_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from jobdeck import accounts
    from jobdeck.accounts import AccessPolicy, Actor

    deck = JobDeck(f"sqlite:///{tmp_path / 'jobs.db'}")
    deck.store.migrate()
    try:
        accounts.add_user(
            deck.store, deck.clock, AccessPolicy(), Actor("t"), "a@example.com", "x" * 12, "admin"
        )
        users = TestClient(deck.asgi(authorize=local_operator)).get("/api/users").json()
        assert [u["email"] for u in users] == ["a@example.com"]
        assert "password_hash" not in users[0] and "$argon2" not in str(users)
    finally:
        deck.close()
