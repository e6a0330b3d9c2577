"""The access verbs, written once for both dialects: users, sessions, API tokens, login
throttling and the audit log. Each verb is one named statement (``sql/<dialect>/access.sql``)
on the dialect's database object, which encodes the times."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar, Unpack

from jobdeck.store.base import AccessStore
from jobdeck.store.dialect import Statements, where_of
from jobdeck.store.records import (
    AuditAction,
    AuditFilter,
    AuditRow,
    LoginAttempts,
    SessionRow,
    TokenRow,
    UserChanges,
    UserRow,
)
from jobdeck.store.rows import (
    audit_clauses,
    from_row,
)

D = TypeVar("D", bound=Statements)


class AccessVerbs(AccessStore, Generic[D]):
    """Mixed into both stores, which set ``_db``."""

    _db: D

    # -- users ---------------------------------------------------------------------------------

    def create_user(
        self, email: str, name: str, role: str, password_hash: str, now: datetime
    ) -> UserRow | None:
        """None when the email is taken."""
        t = self._db.encode_time
        params = {"email": email, "name": name, "role": role, "password_hash": password_hash}
        # Not replayed: after a first try that committed, the replay would find the email
        # taken and report the new user as a duplicate.
        rows = self._db.write_rows("create_user", {**params, "now": t(now)}, replay_if_lost=False)
        return from_row(UserRow, rows[0], self._db.parse_time) if rows else None

    def get_user(self, user_id: int) -> UserRow | None:
        return self._one_user("get_user", {"id": user_id})

    def find_user(self, email: str) -> UserRow | None:
        return self._one_user("find_user", {"email": email})

    def list_users(self) -> list[UserRow]:
        return [from_row(UserRow, r, self._db.parse_time) for r in self._db.read("list_users")]

    def update_user(
        self, user_id: int, now: datetime, **changes: Unpack[UserChanges]
    ) -> UserRow | None:
        params = {
            "id": user_id,
            "now": self._db.encode_time(now),
            "name": changes.get("name"),
            "role": changes.get("role"),
            "active": changes.get("active"),
            "password_hash": changes.get("password_hash"),
        }
        rows = self._db.write_rows("update_user", params)
        return from_row(UserRow, rows[0], self._db.parse_time) if rows else None

    def record_login(self, user_id: int, now: datetime) -> None:
        self._db.write_count("record_login", {"id": user_id, "now": self._db.encode_time(now)})

    def _one_user(self, query: str, params: dict[str, object]) -> UserRow | None:
        rows = self._db.read(query, params)
        return from_row(UserRow, rows[0], self._db.parse_time) if rows else None

    # -- sessions ------------------------------------------------------------------------------

    def create_session(self, session: SessionRow) -> None:
        """Store a new session, deleting expired ones in the same statement."""
        # Not replayed: a first try that committed would make the replay a duplicate key.
        self._db.write_rows("create_session", self._session_params(session), replay_if_lost=False)

    def _session_params(self, session: SessionRow) -> dict[str, object]:
        t = self._db.encode_time
        return {
            "id_hash": session.id_hash,
            "user_id": session.user_id,
            "csrf_token": session.csrf_token,
            "now": t(session.created_at),
            "expires_at": t(session.expires_at),
            "ip": session.ip,
            "user_agent": session.user_agent,
        }

    def get_session(self, id_hash: str) -> SessionRow | None:
        rows = self._db.read("get_session", {"id_hash": id_hash})
        return from_row(SessionRow, rows[0], self._db.parse_time) if rows else None

    def touch_session(self, id_hash: str, now: datetime) -> None:
        params = {"id_hash": id_hash, "now": self._db.encode_time(now)}
        self._db.write_count("touch_session", params)

    def delete_session(self, id_hash: str) -> None:
        self._db.write_count("delete_session", {"id_hash": id_hash})

    def delete_user_sessions(self, user_id: int) -> None:
        self._db.write_count("delete_user_sessions", {"user_id": user_id})

    # -- tokens --------------------------------------------------------------------------------

    def create_token(
        self, name: str, token_hash: str, prefix: str, role: str, created_by: str, now: datetime
    ) -> TokenRow:
        params = {
            "name": name,
            "token_hash": token_hash,
            "prefix": prefix,
            "role": role,
            "created_by": created_by,
            "now": self._db.encode_time(now),
        }
        # Not replayed: a first try that committed would make the replay a duplicate key.
        (row,) = self._db.write_rows("create_token", params, replay_if_lost=False)
        return from_row(TokenRow, row, self._db.parse_time)

    def find_token(self, token_hash: str) -> TokenRow | None:
        rows = self._db.read("find_token", {"token_hash": token_hash})
        return from_row(TokenRow, rows[0], self._db.parse_time) if rows else None

    def list_tokens(self) -> list[TokenRow]:
        return [from_row(TokenRow, r, self._db.parse_time) for r in self._db.read("list_tokens")]

    def revoke_token(self, token_id: int, now: datetime) -> bool:
        """False when there is no such token or it was already revoked."""
        # Not replayed: after a first try that committed, the replay would answer False.
        params = {"id": token_id, "now": self._db.encode_time(now)}
        return bool(self._db.write_rows("revoke_token", params, replay_if_lost=False))

    def touch_token(self, token_id: int, now: datetime) -> None:
        self._db.write_count("touch_token", {"id": token_id, "now": self._db.encode_time(now)})

    # -- login throttling ------------------------------------------------------------------------

    def get_login_attempts(self, key: str) -> LoginAttempts | None:
        rows = self._db.read("get_login_attempts", {"key": key})
        return from_row(LoginAttempts, rows[0], self._db.parse_time) if rows else None

    def save_login_attempts(self, attempts: LoginAttempts) -> None:
        t = self._db.encode_time
        params = {
            "key": attempts.key,
            "failures": attempts.failures,
            "window_started_at": t(attempts.window_started_at),
            "locked_until": t(attempts.locked_until),
        }
        self._db.write_count("save_login_attempts", params)

    def clear_login_attempts(self, key: str) -> None:
        self._db.write_count("clear_login_attempts", {"key": key})

    # -- audit ---------------------------------------------------------------------------------

    def record_action(self, action: AuditAction) -> int:
        params = {
            "timestamp": self._db.encode_time(action.timestamp),
            "actor": action.actor,
            "role": action.role,
            "action_type": action.action_type,
            "target": action.target,
            "ip": action.ip,
            "details": action.details_json,
        }
        # Not replayed: a first try that committed would leave the action recorded twice.
        (row,) = self._db.write_rows("record_action", params, replay_if_lost=False)
        return int(row["id"])

    def list_audit(self, filters: AuditFilter, limit: int) -> list[AuditRow]:
        """Newest first; ``filters.before`` pages to older entries."""
        t = self._db.encode_time
        before_ts, before_id = filters.before or (None, None)
        params = {
            "actor": filters.actor,
            "action_type": filters.action_type,
            "target": filters.target,
            "date_from": t(filters.date_from),
            "date_to": t(filters.date_to),
            "before_ts": t(before_ts),
            "before_id": before_id,
            "limit": limit,
        }
        where = where_of(self._db, audit_clauses(filters))
        rows = self._db.read("list_audit", params, where=where)
        return [from_row(AuditRow, r, self._db.parse_time) for r in rows]

    def prune_audit(self, before: datetime) -> int:
        """Delete operator actions older than ``before``; executions go with their jobs."""
        return self._db.write_count("prune_audit", {"before": self._db.encode_time(before)})
