"""The SQLite store's access verbs: users, sessions, API tokens, login throttling, audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from jobdeck.store.base import AccessStore
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
from jobdeck.store.sqlite.connection import SQLiteDatabase, from_db, to_db


class SQLiteAccess(AccessStore):
    """Mixed into SQLiteStore, which sets ``_db``. Each verb is one write transaction or one
    read."""

    _db: SQLiteDatabase

    # -- users ---------------------------------------------------------------------------------

    def create_user(
        self, email: str, name: str, role: str, password_hash: str, now: datetime
    ) -> UserRow | None:
        params = {
            "email": email,
            "name": name,
            "role": role,
            "password_hash": password_hash,
            "now": to_db(now),
        }
        row = self._db.write_one("create_user", params)
        return user_from_row(row, from_db) if row else None

    def get_user(self, user_id: int) -> UserRow | None:
        return self._one_user("get_user", {"id": user_id})

    def find_user(self, email: str) -> UserRow | None:
        return self._one_user("find_user", {"email": email})

    def list_users(self) -> list[UserRow]:
        return [user_from_row(r, from_db) for r in self._db.read("list_users")]

    def update_user(
        self, user_id: int, now: datetime, **changes: Unpack[UserChanges]
    ) -> UserRow | None:
        active = changes.get("active")
        params = {
            "id": user_id,
            "now": to_db(now),
            "name": changes.get("name"),
            "role": changes.get("role"),
            "active": None if active is None else int(active),
            "password_hash": changes.get("password_hash"),
        }
        row = self._db.write_one("update_user", params)
        return user_from_row(row, from_db) if row else None

    def record_login(self, user_id: int, now: datetime) -> None:
        self._db.write_count("record_login", {"id": user_id, "now": to_db(now)})

    def _one_user(self, name: str, params: dict[str, Any]) -> UserRow | None:
        rows = self._db.read(name, params)
        return user_from_row(rows[0], from_db) if rows else None

    # -- sessions ------------------------------------------------------------------------------

    def create_session(self, session: SessionRow) -> None:
        """Store a new session; expired ones go in the same transaction."""
        with self._db.write() as db:
            db.execute(self._db.q["delete_expired_sessions"], {"now": to_db(session.created_at)})
            db.execute(
                self._db.q["create_session"],
                {
                    "id_hash": session.id_hash,
                    "user_id": session.user_id,
                    "csrf_token": session.csrf_token,
                    "now": to_db(session.created_at),
                    "expires_at": to_db(session.expires_at),
                    "ip": session.ip,
                    "user_agent": session.user_agent,
                },
            )

    def get_session(self, id_hash: str) -> SessionRow | None:
        rows = self._db.read("get_session", {"id_hash": id_hash})
        return session_from_row(rows[0], from_db) if rows else None

    def touch_session(self, id_hash: str, now: datetime) -> None:
        self._db.write_count("touch_session", {"id_hash": id_hash, "now": to_db(now)})

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
            "now": to_db(now),
        }
        return token_from_row(self._db.write_row("create_token", params), from_db)

    def find_token(self, token_hash: str) -> TokenRow | None:
        rows = self._db.read("find_token", {"token_hash": token_hash})
        return token_from_row(rows[0], from_db) if rows else None

    def list_tokens(self) -> list[TokenRow]:
        return [token_from_row(r, from_db) for r in self._db.read("list_tokens")]

    def revoke_token(self, token_id: int, now: datetime) -> bool:
        params = {"id": token_id, "now": to_db(now)}
        return self._db.write_one("revoke_token", params) is not None

    def touch_token(self, token_id: int, now: datetime) -> None:
        self._db.write_count("touch_token", {"id": token_id, "now": to_db(now)})

    # -- login throttling ------------------------------------------------------------------------

    def get_login_attempts(self, key: str) -> LoginAttempts | None:
        rows = self._db.read("get_login_attempts", {"key": key})
        return login_attempts_from_row(rows[0], from_db) if rows else None

    def save_login_attempts(self, attempts: LoginAttempts) -> None:
        params = {
            "key": attempts.key,
            "failures": attempts.failures,
            "window_started_at": to_db(attempts.window_started_at),
            "locked_until": to_db(attempts.locked_until),
        }
        self._db.write_count("save_login_attempts", params)

    def clear_login_attempts(self, key: str) -> None:
        self._db.write_count("clear_login_attempts", {"key": key})

    # -- audit ---------------------------------------------------------------------------------

    def record_action(self, action: AuditAction) -> int:
        params = {
            "timestamp": to_db(action.timestamp),
            "actor": action.actor,
            "role": action.role,
            "action_type": action.action_type,
            "target": action.target,
            "ip": action.ip,
            "details": action.details_json,
        }
        return int(self._db.write_row("record_action", params)[0])

    def list_audit(self, filters: AuditFilter, limit: int) -> list[AuditRow]:
        where = where_of(self._db, audit_clauses(filters))
        before_ts, before_id = filters.before or (None, None)
        params = {
            "actor": filters.actor,
            "action_type": filters.action_type,
            "date_from": to_db(filters.date_from),
            "date_to": to_db(filters.date_to),
            "before_ts": to_db(before_ts),
            "before_id": before_id,
            "limit": limit,
        }
        rows = self._db.read("list_audit", params, where=where)
        return [audit_from_row(r, from_db) for r in rows]

    def prune_audit(self, before: datetime) -> int:
        return self._db.write_count("prune_audit", {"before": to_db(before)})
