"""The access verbs on both stores: users, sessions, API tokens, login throttling and the
audit log (operator actions beside one row per finished attempt)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobdeck.clock import ManualClock
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import (
    AuditAction,
    AuditFilter,
    ClaimRequest,
    LoginAttempts,
    NewJob,
    Outcome,
    SessionRow,
    Store,
)

T0 = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def session(id_hash: str, user_id: int, at: datetime, hours: float = 8.0) -> SessionRow:
    return SessionRow(
        id_hash=id_hash,
        user_id=user_id,
        csrf_token=f"csrf-{id_hash}",
        created_at=at,
        last_seen_at=at,
        expires_at=at + timedelta(hours=hours),
        ip="203.0.113.7",
        user_agent="pytest",
    )


def test_users_are_created_once_per_email_found_listed_and_updated(store: Store) -> None:
    ada = store.create_user("ada@example.com", "Ada", "admin", "hash-1", T0)
    assert ada is not None and (ada.email, ada.name) == ("ada@example.com", "Ada")
    assert ada.role == "admin"
    assert ada.active and ada.password_hash == "hash-1" and ada.created_at == T0
    assert ada.last_login_at is None
    assert store.create_user("ada@example.com", "Other", "user", "hash-2", T0) is None
    bob = store.create_user("bob@example.com", "Bob", "partner", "hash-3", T0)
    assert bob is not None and bob.id != ada.id

    assert store.get_user(ada.id) == ada and store.get_user(999_999) is None
    assert store.find_user("bob@example.com") == bob and store.find_user("eve@x") is None
    assert [u.email for u in store.list_users()] == ["ada@example.com", "bob@example.com"]

    later = T0 + timedelta(minutes=5)
    demoted = store.update_user(ada.id, later, role="user")
    assert demoted is not None and (demoted.role, demoted.name, demoted.active) == (
        "user",
        "Ada",
        True,
    )
    disabled = store.update_user(ada.id, later, active=False, password_hash="hash-9")
    assert disabled is not None and not disabled.active and disabled.password_hash == "hash-9"
    assert disabled.role == "user"  # what was not named stays
    renamed = store.update_user(ada.id, later, name="Ada L.", active=True)
    assert renamed is not None and (renamed.name, renamed.active) == ("Ada L.", True)
    assert store.update_user(999_999, later, name="nobody") is None

    store.record_login(bob.id, later)
    assert store.get_user(bob.id).last_login_at == later  # type: ignore[union-attr]


def test_sessions_live_until_deleted_and_expired_ones_go_as_new_ones_come(store: Store) -> None:
    user = store.create_user("ada@example.com", "Ada", "admin", "h", T0)
    other = store.create_user("bob@example.com", "Bob", "admin", "h", T0)
    assert user is not None and other is not None
    short = session("short", user.id, T0, hours=1)
    store.create_session(short)
    assert store.get_session("short") == short
    assert store.get_session("unknown") is None

    store.touch_session("short", T0 + timedelta(minutes=30))
    touched = store.get_session("short")
    assert touched is not None and touched.last_seen_at == T0 + timedelta(minutes=30)

    store.create_session(session("kept", user.id, T0 + timedelta(hours=2)))  # "short" expired
    assert store.get_session("short") is None
    store.create_session(session("theirs", other.id, T0 + timedelta(hours=2)))
    store.create_session(session("second", user.id, T0 + timedelta(hours=2)))
    store.delete_session("kept")
    assert store.get_session("kept") is None and store.get_session("second") is not None
    store.delete_user_sessions(user.id)
    assert store.get_session("second") is None
    assert store.get_session("theirs") is not None  # another user's session stays


def test_tokens_are_found_by_hash_listed_touched_and_revoked_once(store: Store) -> None:
    first = store.create_token("ci", "hash-a", "jd_a", "operator", "ada@example.com", T0)
    second = store.create_token("cron", "hash-b", "jd_b", "viewer", "ada@example.com", T0)
    assert (first.name, first.prefix, first.role, first.created_by) == (
        "ci",
        "jd_a",
        "operator",
        "ada@example.com",
    )
    assert first.created_at == T0 and first.last_used_at is None and first.revoked_at is None
    assert store.find_token("hash-a") == first and store.find_token("hash-z") is None
    assert [t.id for t in store.list_tokens()] == [second.id, first.id]  # newest first

    store.touch_token(first.id, T0 + timedelta(minutes=1))
    assert store.find_token("hash-a").last_used_at == T0 + timedelta(minutes=1)  # type: ignore[union-attr]
    assert store.revoke_token(first.id, T0 + timedelta(minutes=2))
    assert not store.revoke_token(first.id, T0 + timedelta(minutes=3))  # revoked already
    assert not store.revoke_token(999_999, T0)
    assert store.find_token("hash-a").revoked_at == T0 + timedelta(minutes=2)  # type: ignore[union-attr]


def test_login_attempts_are_saved_replaced_and_cleared(store: Store) -> None:
    assert store.get_login_attempts("ip:203.0.113.7") is None
    first = LoginAttempts("ip:203.0.113.7", 1, T0, None)
    store.save_login_attempts(first)
    assert store.get_login_attempts("ip:203.0.113.7") == first
    locked = LoginAttempts("ip:203.0.113.7", 5, T0, T0 + timedelta(minutes=15))
    store.save_login_attempts(locked)
    assert store.get_login_attempts("ip:203.0.113.7") == locked
    store.save_login_attempts(LoginAttempts("user:ada", 2, T0, None))
    store.clear_login_attempts("ip:203.0.113.7")
    assert store.get_login_attempts("ip:203.0.113.7") is None
    assert store.get_login_attempts("user:ada") is not None


def finish_one_job(store: Store, at: datetime) -> int:
    """One job run to success at ``at``: it shows in the audit log as an execution."""
    store.clock = ManualClock(at - timedelta(seconds=1))  # type: ignore[attr-defined]
    store.insert_jobs([NewJob("mail")])
    [job] = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    outcome = Outcome(
        job.id, job.attempt, job.task, AttemptStatus.SUCCEEDED, JobState.SUCCEEDED,
        job.started_at, at, result_json='{"sent":1}',
    )  # fmt: skip
    store.complete_jobs("w1", [outcome], shard=1)
    return job.id


def test_the_audit_log_lists_actions_and_executions_filters_pages_and_prunes(
    store: Store,
) -> None:
    def action(kind: str, minutes: int, actor: str = "ada@example.com") -> int:
        return store.record_action(
            AuditAction(
                actor=actor,
                action_type=kind,
                timestamp=T0 + timedelta(minutes=minutes),
                role="admin",
                target="job 1",
                ip="203.0.113.7",
                details_json='{"why":"test"}',
            )
        )

    login = action("login", 0)
    retry = action("retry", 2)
    action("cancel", 4, actor="bob@example.com")
    job_id = finish_one_job(store, T0 + timedelta(minutes=3))

    everything = store.list_audit(AuditFilter(), 50)
    assert [e.action_type for e in everything] == [
        "cancel",
        "background_job_execution",
        "retry",
        "login",
    ]
    newest = everything[0]
    assert (newest.actor, newest.role, newest.target, newest.ip) == (
        "bob@example.com",
        "admin",
        "job 1",
        "203.0.113.7",
    )
    assert newest.details == {"why": "test"} and newest.timestamp == T0 + timedelta(minutes=4)
    execution = everything[1]
    assert execution.id.startswith("run-") and execution.actor == "system"
    assert execution.details["job_id"] == job_id and execution.details["job_name"] == "mail"
    assert {e.id for e in everything} >= {f"op-{login}", f"op-{retry}"}

    def kinds(**filters: object) -> list[str]:
        return [e.action_type for e in store.list_audit(AuditFilter(**filters), 50)]  # type: ignore[arg-type]

    assert kinds(actor="bob@example.com") == ["cancel"]
    assert kinds(action_type="retry") == ["retry"]
    assert kinds(executions=False) == ["cancel", "retry", "login"]
    assert kinds(operator_actions=False) == ["background_job_execution"]
    window = {"date_from": T0 + timedelta(minutes=1), "date_to": T0 + timedelta(minutes=3)}
    assert kinds(**window) == ["background_job_execution", "retry"]
    page = store.list_audit(AuditFilter(), 2)
    rest = store.list_audit(AuditFilter(before=(page[-1].timestamp, page[-1].id)), 50)
    assert [e.id for e in page + rest] == [e.id for e in everything]

    assert store.prune_audit(T0 + timedelta(minutes=3)) == 2  # login and retry
    assert kinds() == ["cancel", "background_job_execution"]  # executions go with their jobs
    assert store.prune_audit(T0 + timedelta(minutes=3)) == 0


def test_the_audit_log_finds_the_actions_on_one_target(store: Store) -> None:
    """The drawer's "Operator actions" and the schedule card's manual runs: the rows of one
    target, exactly (job 1 is not job 10), with executions or without."""

    def action(kind: str, minutes: int, target: str) -> None:
        store.record_action(
            AuditAction(
                actor="ada@example.com",
                action_type=kind,
                timestamp=T0 + timedelta(minutes=minutes),
                target=target,
                details_json='{"reason":"flaky SMTP"}',
            )
        )

    job_id = finish_one_job(store, T0 + timedelta(minutes=1))
    action("retry", 2, f"job {job_id}")
    action("cancel", 3, f"job {job_id}0")  # a longer id that starts with the same digits
    action("run_now", 4, "schedule nightly")
    action("cancel", 5, f"job {job_id}")

    def kinds(**filters: object) -> list[str]:
        return [e.action_type for e in store.list_audit(AuditFilter(**filters), 50)]  # type: ignore[arg-type]

    assert kinds(target=f"job {job_id}") == ["cancel", "retry", "background_job_execution"]
    assert kinds(target=f"job {job_id}", executions=False) == ["cancel", "retry"]
    assert kinds(target="schedule nightly", action_type="run_now") == ["run_now"]
    assert kinds(target="schedule nightly", action_type="retry") == []
    assert kinds(target="schedule night") == []
    [row] = store.list_audit(AuditFilter(target="schedule nightly"), 50)
    assert row.details == {"reason": "flaky SMTP"}
