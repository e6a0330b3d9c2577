"""The PostgreSQL store's access verbs: users, sessions, API tokens, login throttling, audit.

Every verb is one autocommitted statement. Reads and idempotent writes are replayed after a
lost connection; a verb whose replay would answer differently when the first try did commit
(an insert, a revocation) is not, and the caller hears of the outage instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Unpack

from jobdeck.store.base import AccessStore
from jobdeck.store.postgres.connection import from_db
from jobdeck.store.postgres.statements import PgDatabase
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
    audit_from_row,
    login_attempts_from_row,
    session_from_row,
    token_from_row,
    user_from_row,
    where_of,
)


class PostgresAccess(AccessStore):
    """Mixed into PostgresStore, which sets ``_db``."""

    _db: PgDatabase

    # -- users ---------------------------------------------------------------------------------

    def create_user(
        self, email: str, name: str, role: str, password_hash: str, now: datetime
    ) -> UserRow | None:
        """None when the email is taken."""
        params = {
            "email": email,
            "name": name,
            "role": role,
            "password_hash": password_hash,
            "now": now,
        }
        # Not replayed: after a first try that committed, the replay would find the email
        # taken and report the new user as a duplicate.
        rows = self._db.rows("create_user", params, replay_if_lost=False)
        return user_from_row(rows[0], from_db) if rows else None

    def get_user(self, user_id: int) -> UserRow | None:
        rows = self._db.rows("get_user", {"id": user_id})
        return user_from_row(rows[0], from_db) if rows else None

    def find_user(self, email: str) -> UserRow | None:
        rows = self._db.rows("find_user", {"email": email})
        return user_from_row(rows[0], from_db) if rows else None

    def list_users(self) -> list[UserRow]:
        return [user_from_row(r, from_db) for r in self._db.rows("list_users", {})]

    def update_user(
        self, user_id: int, now: datetime, **changes: Unpack[UserChanges]
    ) -> UserRow | None:
        params = {
            "id": user_id,
            "now": now,
            "name": changes.get("name"),
            "role": changes.get("role"),
            "active": changes.get("active"),
            "password_hash": changes.get("password_hash"),
        }
        rows = self._db.rows("update_user", params)
        return user_from_row(rows[0], from_db) if rows else None

    def record_login(self, user_id: int, now: datetime) -> None:
        self._db.count("record_login", {"id": user_id, "now": now})

    # -- sessions ------------------------------------------------------------------------------

    def create_session(self, session: SessionRow) -> None:
        """Store a new session, deleting expired ones in the same statement."""
        params = {
            "id_hash": session.id_hash,
            "user_id": session.user_id,
            "csrf_token": session.csrf_token,
            "now": session.created_at,
            "expires_at": session.expires_at,
            "ip": session.ip,
            "user_agent": session.user_agent,
        }
        # Not replayed: a first try that committed would make the replay a duplicate key.
        self._db.execute("create_session", params, replay_if_lost=False)

    def get_session(self, id_hash: str) -> SessionRow | None:
        rows = self._db.rows("get_session", {"id_hash": id_hash})
        return session_from_row(rows[0], from_db) if rows else None

    def touch_session(self, id_hash: str, now: datetime) -> None:
        self._db.count("touch_session", {"id_hash": id_hash, "now": now})

    def delete_session(self, id_hash: str) -> None:
        self._db.count("delete_session", {"id_hash": id_hash})

    def delete_user_sessions(self, user_id: int) -> None:
        self._db.count("delete_user_sessions", {"user_id": user_id})

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
            "now": now,
        }
        # Not replayed: a first try that committed would make the replay a duplicate key.
        (row,) = self._db.rows("create_token", params, replay_if_lost=False)
        return token_from_row(row, from_db)

    def find_token(self, token_hash: str) -> TokenRow | None:
        rows = self._db.rows("find_token", {"token_hash": token_hash})
        return token_from_row(rows[0], from_db) if rows else None

    def list_tokens(self) -> list[TokenRow]:
        return [token_from_row(r, from_db) for r in self._db.rows("list_tokens", {})]

    def revoke_token(self, token_id: int, now: datetime) -> bool:
        """False when there is no such token or it was already revoked."""
        # Not replayed: after a first try that committed, the replay would answer False.
        params = {"id": token_id, "now": now}
        return bool(self._db.rows("revoke_token", params, replay_if_lost=False))

    def touch_token(self, token_id: int, now: datetime) -> None:
        self._db.count("touch_token", {"id": token_id, "now": now})

    # -- login throttling ------------------------------------------------------------------------

    def get_login_attempts(self, key: str) -> LoginAttempts | None:
        rows = self._db.rows("get_login_attempts", {"key": key})
        return login_attempts_from_row(rows[0], from_db) if rows else None

    def save_login_attempts(self, attempts: LoginAttempts) -> None:
        params = {
            "key": attempts.key,
            "failures": attempts.failures,
            "window_started_at": attempts.window_started_at,
            "locked_until": attempts.locked_until,
        }
        self._db.count("save_login_attempts", params)

    def clear_login_attempts(self, key: str) -> None:
        self._db.count("clear_login_attempts", {"key": key})

    # -- audit ---------------------------------------------------------------------------------

    def record_action(self, action: AuditAction) -> int:
        params = {
            "timestamp": action.timestamp,
            "actor": action.actor,
            "role": action.role,
            "action_type": action.action_type,
            "target": action.target,
            "ip": action.ip,
            "details": action.details_json,
        }
        # Not replayed: a first try that committed would leave the action recorded twice.
        (row,) = self._db.rows("record_action", params, replay_if_lost=False)
        return int(row["id"])

    def list_audit(self, filters: AuditFilter, limit: int) -> list[AuditRow]:
        """Newest first; ``filters.before`` pages to older entries."""
        before_ts, before_id = filters.before or (None, None)
        params = {
            "actor": filters.actor,
            "action_type": filters.action_type,
            "date_from": filters.date_from,
            "date_to": filters.date_to,
            "before_ts": before_ts,
            "before_id": before_id,
            "limit": limit,
        }
        where = where_of(self._db, audit_clauses(filters))
        rows = self._db.rows("list_audit", params, where=where)
        return [audit_from_row(r, from_db) for r in rows]

    def prune_audit(self, before: datetime) -> int:
        """Delete operator actions older than ``before``; executions go with their jobs."""
        return self._db.count("prune_audit", {"before": before})
