"""The SQLite store's users, sessions, tokens, login throttling and audit verbs."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from jobdeck.store.base import (
    AuditAction,
    AuditFilter,
    AuditRow,
    LoginAttempts,
    SessionRow,
    TokenRow,
    UserRow,
)
from jobdeck.store.rows import (
    audit_clauses,
    audit_from_row,
    login_attempts_from_row,
    session_from_row,
    token_from_row,
    user_from_row,
)


def _to_db(moment: datetime | None) -> str | None:
    from jobdeck.store.sqlite import to_db

    return to_db(moment)


def _from_db(value: Any) -> datetime | None:
    from jobdeck.store.sqlite import from_db

    return from_db(value)


class SQLiteAccessVerbs:
    """Mixed into SQLiteStore, which provides ``_q``, ``_read`` and ``_write``."""

    _q: dict[str, str]
    _read: Callable[..., list[Any]]
    _write: Callable[[], AbstractContextManager[sqlite3.Connection]]

    def _write_one(self, name: str, params: dict[str, Any]) -> Any:
        with self._write() as db:
            return db.execute(self._q[name], params).fetchone()

    def _write_count(self, name: str, params: dict[str, Any]) -> int:
        with self._write() as db:
            return db.execute(self._q[name], params).rowcount

    # -- users ---------------------------------------------------------------------------------

    def create_user(
        self, email: str, name: str, role: str, password_hash: str, now: datetime
    ) -> UserRow | None:
        row = self._write_one(
            "create_user",
            {
                "email": email,
                "name": name,
                "role": role,
                "password_hash": password_hash,
                "now": _to_db(now),
            },
        )
        return user_from_row(row, _from_db) if row else None

    def get_user(self, user_id: int) -> UserRow | None:
        return self._one_user("get_user", {"id": user_id})

    def find_user(self, email: str) -> UserRow | None:
        return self._one_user("find_user", {"email": email})

    def list_users(self) -> list[UserRow]:
        return [user_from_row(r, _from_db) for r in self._read("list_users")]

    def update_user(
        self,
        user_id: int,
        now: datetime,
        *,
        name: str | None = None,
        role: str | None = None,
        active: bool | None = None,
        password_hash: str | None = None,
    ) -> UserRow | None:
        row = self._write_one(
            "update_user",
            {
                "id": user_id,
                "now": _to_db(now),
                "name": name,
                "role": role,
                "active": None if active is None else int(active),
                "password_hash": password_hash,
            },
        )
        return user_from_row(row, _from_db) if row else None

    def record_login(self, user_id: int, now: datetime) -> None:
        self._write_count("record_login", {"id": user_id, "now": _to_db(now)})

    def _one_user(self, name: str, params: dict[str, Any]) -> UserRow | None:
        rows = self._read(name, params)
        return user_from_row(rows[0], _from_db) if rows else None

    # -- sessions ------------------------------------------------------------------------------

    def create_session(self, session: SessionRow) -> None:
        with self._write() as db:
            db.execute(self._q["delete_expired_sessions"], {"now": _to_db(session.created_at)})
            db.execute(
                self._q["create_session"],
                {
                    "id_hash": session.id_hash,
                    "user_id": session.user_id,
                    "csrf_token": session.csrf_token,
                    "now": _to_db(session.created_at),
                    "expires_at": _to_db(session.expires_at),
                    "ip": session.ip,
                    "user_agent": session.user_agent,
                },
            )

    def get_session(self, id_hash: str) -> SessionRow | None:
        rows = self._read("get_session", {"id_hash": id_hash})
        return session_from_row(rows[0], _from_db) if rows else None

    def touch_session(self, id_hash: str, now: datetime) -> None:
        self._write_count("touch_session", {"id_hash": id_hash, "now": _to_db(now)})

    def delete_session(self, id_hash: str) -> None:
        self._write_count("delete_session", {"id_hash": id_hash})

    def delete_user_sessions(self, user_id: int) -> None:
        self._write_count("delete_user_sessions", {"user_id": user_id})

    # -- tokens --------------------------------------------------------------------------------

    def create_token(
        self, name: str, token_hash: str, prefix: str, role: str, created_by: str, now: datetime
    ) -> TokenRow:
        row = self._write_one(
            "create_token",
            {
                "name": name,
                "token_hash": token_hash,
                "prefix": prefix,
                "role": role,
                "created_by": created_by,
                "now": _to_db(now),
            },
        )
        return token_from_row(row, _from_db)

    def find_token(self, token_hash: str) -> TokenRow | None:
        rows = self._read("find_token", {"token_hash": token_hash})
        return token_from_row(rows[0], _from_db) if rows else None

    def list_tokens(self) -> list[TokenRow]:
        return [token_from_row(r, _from_db) for r in self._read("list_tokens")]

    def revoke_token(self, token_id: int, now: datetime) -> bool:
        return self._write_one("revoke_token", {"id": token_id, "now": _to_db(now)}) is not None

    def touch_token(self, token_id: int, now: datetime) -> None:
        self._write_count("touch_token", {"id": token_id, "now": _to_db(now)})

    # -- login throttling ------------------------------------------------------------------------

    def get_login_attempts(self, key: str) -> LoginAttempts | None:
        rows = self._read("get_login_attempts", {"key": key})
        return login_attempts_from_row(rows[0], _from_db) if rows else None

    def save_login_attempts(self, attempts: LoginAttempts) -> None:
        self._write_count(
            "save_login_attempts",
            {
                "key": attempts.key,
                "failures": attempts.failures,
                "window_started_at": _to_db(attempts.window_started_at),
                "locked_until": _to_db(attempts.locked_until),
            },
        )

    def clear_login_attempts(self, key: str) -> None:
        self._write_count("clear_login_attempts", {"key": key})

    # -- audit ---------------------------------------------------------------------------------

    def record_action(self, action: AuditAction) -> int:
        row = self._write_one(
            "record_action",
            {
                "timestamp": _to_db(action.timestamp),
                "actor": action.actor,
                "role": action.role,
                "action_type": action.action_type,
                "target": action.target,
                "ip": action.ip,
                "details": action.details_json,
            },
        )
        return int(row[0])

    def list_audit(self, filters: AuditFilter, limit: int) -> list[AuditRow]:
        where = " AND ".join(self._q[n] for n in audit_clauses(filters)) or "1 = 1"
        before_ts, before_id = filters.before or (None, None)
        params = {
            "actor": filters.actor,
            "action_type": filters.action_type,
            "date_from": _to_db(filters.date_from),
            "date_to": _to_db(filters.date_to),
            "before_ts": _to_db(before_ts),
            "before_id": before_id,
            "limit": limit,
        }
        return [audit_from_row(r, _from_db) for r in self._read("list_audit", params, where=where)]

    def prune_audit(self, before: datetime) -> int:
        return self._write_count("prune_audit", {"before": _to_db(before)})


__all__ = ["SQLiteAccessVerbs"]
