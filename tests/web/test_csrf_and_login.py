"""CSRF on every state change, login throttling with a growing delay, one answer for all."""

from __future__ import annotations

from jobdeck.store.base import AuditFilter, JobFilter
from tests.web.conftest import Site, csrf_of, sign_in


def test_state_change_without_or_with_a_foreign_csrf_token_is_refused(site: Site) -> None:
    victim = site.login("admin@example.com")
    other = site.login("partner@example.com")
    job = site.deck.tasks["send_email"].enqueue(to="a@example.com")
    foreign = csrf_of(other)
    for headers in ({}, {"X-CSRF-Token": foreign}, {"X-CSRF-Token": ""}):
        assert victim.post(f"/jobs/{job.id}/cancel", headers=headers).status_code == 403
        assert victim.post(f"/api/jobs/{job.id}/cancel", headers=headers).status_code == 403
        assert (
            victim.post("/schedules/check-sla-and-overdue/run", headers=headers).status_code == 403
        )
    # nothing changed
    assert job.refresh().state == "available"
    assert site.deck.store.count_jobs(JobFilter(schedule="check-sla-and-overdue")) == 0
    # and with the right token the same requests work
    token = csrf_of(victim)
    assert victim.post(f"/jobs/{job.id}/cancel", headers={"X-CSRF-Token": token}).status_code == 200


def test_form_posts_carry_the_token_in_a_field(site: Site) -> None:
    admin = site.login("admin@example.com")
    form = {"action": "add", "email": "new@example.com", "password": "longenough1", "role": "user"}
    assert admin.post("/admin/users", data=form).status_code == 403
    assert site.deck.store.find_user("new@example.com") is None
    ok = admin.post("/admin/users", data={**form, "csrf_token": csrf_of(admin)})
    assert ok.status_code == 200 and site.deck.store.find_user("new@example.com")


def test_login_form_needs_its_own_token(site: Site) -> None:
    client = site.client()
    response = client.post(
        "/login", data={"email": "admin@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 403 and "jobdeck_session" not in response.headers.get(
        "set-cookie", ""
    )


def test_unknown_email_and_wrong_password_get_the_same_answer(site: Site) -> None:
    wrong = sign_in(site.client(), "admin@example.com", "nope-nope")
    unknown = sign_in(site.client(), "ghost@example.com", "nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text


def test_twentieth_wrong_password_in_a_minute_is_refused_and_the_right_one_works_later(
    site: Site,
) -> None:
    client = site.client()
    statuses = []
    for attempt in range(20):  # 20 tries within 40 seconds
        if attempt:
            site.clock.advance(seconds=2)
        statuses.append(sign_in(client, "partner@example.com", "wrong password").status_code)
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429, statuses
    refused = sign_in(client, "partner@example.com", "correct horse battery")
    assert refused.status_code == 429 and "Try again in" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    site.clock.advance(minutes=16)  # the lock (capped at 15 min) has passed
    assert sign_in(client, "partner@example.com", "correct horse battery").status_code == 303


def test_throttling_is_per_address_too(site: Site) -> None:
    client = site.client()
    for number in range(12):  # one address spraying many accounts
        sign_in(client, f"user{number}@example.com", "wrong password")
        site.clock.advance(seconds=1)
    assert sign_in(client, "admin@example.com", "correct horse battery").status_code == 429


def test_logins_and_operator_actions_are_audited(site: Site) -> None:
    sign_in(site.client(), "admin@example.com", "bad password")
    admin = site.login("admin@example.com")
    admin.post("/schedules/check-sla-and-overdue/run", headers={"X-CSRF-Token": csrf_of(admin)})
    rows = site.deck.store.list_audit(AuditFilter(executions=False), 50)
    kinds = {(r.action_type, r.actor) for r in rows}
    assert ("login_failed", "admin@example.com") in kinds
    assert ("login", "admin@example.com") in kinds
    assert ("run_now", "admin@example.com") in kinds
    run = next(r for r in rows if r.action_type == "run_now")
    assert run.role == "admin" and run.ip and run.details["created"] is True
