"""The SQLite store's access verbs: the shared ones (store/access.py), but for sessions."""

from __future__ import annotations

from jobdeck.store.access import AccessVerbs
from jobdeck.store.records import SessionRow
from jobdeck.store.sqlite.connection import SQLiteDatabase, to_db


class SQLiteAccess(AccessVerbs[SQLiteDatabase]):
    def create_session(self, session: SessionRow) -> None:
        """Store a new session, deleting expired ones in the same transaction: SQLite has no
        DELETE inside a WITH, so that takes a statement of its own."""
        with self._db.write() as db:
            db.execute(self._db.q["delete_expired_sessions"], {"now": to_db(session.created_at)})
            db.execute(self._db.q["create_session"], self._session_params(session))
