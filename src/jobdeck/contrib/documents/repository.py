"""The ``expert_documents`` records: one row per uploaded file and its processing status.

Status moves pending -> processing -> ready | failed; ``reset`` puts documents back to pending
for reprocessing. The extracted text is read only where it is needed (indexing), never with a
listing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobdeck.contrib.documents.db import Database, Queries

STATUSES = ("pending", "processing", "ready", "failed")


@dataclass(frozen=True)
class DocumentRecord:
    id: int
    owner_id: str
    filename: str
    storage_key: str
    content_type: str
    size_bytes: int
    processing_status: str
    error_reason: str | None
    job_id: int | None
    uploaded_by: str | None
    uploaded_at: datetime
    processed_at: datetime | None
    indexed_at: datetime | None
    text_chars: int | None  # length of the extracted text; None before extraction
    text_cut_from: int | None = None  # the whole text's length, when only text_chars were kept

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner_id": self.owner_id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "processing_status": self.processing_status,
            "error_reason": self.error_reason,
            "job_id": self.job_id,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": self.uploaded_at.isoformat(),
            "processed_at": self.processed_at.isoformat() if self.processed_at else None,
            "indexed_at": self.indexed_at.isoformat() if self.indexed_at else None,
            "text_chars": self.text_chars,
            "text_cut_from": self.text_cut_from,
        }


@dataclass(frozen=True)
class NewDocument:
    owner_id: str
    filename: str
    storage_key: str
    content_type: str
    size_bytes: int
    uploaded_by: str | None = None


class Times:
    """Timestamps as each dialect keeps them: UTC text on SQLite, timestamptz on PostgreSQL."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def to_db(self, moment: datetime | None) -> Any:
        if moment is None or not self.sqlite:
            return moment
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def from_db(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        moment: datetime = value
        return moment.astimezone(UTC)

    def ids(self, ids: Iterable[int]) -> Any:
        values = [int(i) for i in ids]
        return json.dumps(values) if self.sqlite else values


class DocumentRepository:
    """Reads and writes ``expert_documents``; every method is one transaction unless it takes
    the caller's connection (``conn``)."""

    def __init__(self, db: Callable[[], Database]) -> None:
        # A callable, not a Database: the deck may be pointed at another URL after install.
        self._db = db

    @property
    def db(self) -> Database:
        return self._db()

    def _q(self) -> tuple[Database, Queries, Times]:
        db = self.db
        return db, Queries(db.dialect), Times(db.dialect)

    def insert(self, conn: Any, new: NewDocument, now: datetime) -> int:
        """Insert on the caller's connection (so an enqueue can share the transaction)."""
        db = self.db
        q, t = Queries(db.dialect), Times(db.dialect)
        row = q.one(
            conn,
            "insert_document",
            {
                "owner_id": new.owner_id,
                "filename": new.filename,
                "storage_key": new.storage_key,
                "content_type": new.content_type,
                "size_bytes": new.size_bytes,
                "uploaded_by": new.uploaded_by,
                "now": t.to_db(now),
            },
        )
        assert row is not None  # INSERT ... RETURNING always answers
        return int(row["id"])

    def set_job(self, document_id: int, job_id: int, conn: Any = None) -> None:
        db, q, _ = self._q()
        if conn is not None:
            q.execute(conn, "set_document_job", {"id": document_id, "job_id": job_id})
            return
        with db.transaction() as own:
            q.execute(own, "set_document_job", {"id": document_id, "job_id": job_id})

    def get(self, document_id: int) -> DocumentRecord | None:
        db, q, t = self._q()
        with db.reading() as conn:
            row = q.one(conn, "get_document", {"id": document_id})
        return self._record(row, t) if row else None

    def text(self, document_id: int) -> str | None:
        db, q, _ = self._q()
        with db.reading() as conn:
            row = q.one(conn, "get_document_text", {"id": document_id})
        return row["extracted_text"] if row else None

    def find(
        self,
        owner_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[DocumentRecord]:
        """Newest first; ``before_id`` pages to older documents."""
        db, q, t = self._q()
        params = {"owner_id": owner_id, "status": status, "before_id": before_id, "limit": limit}
        with db.reading() as conn:
            rows = q.rows(conn, "list_documents", params)
        return [self._record(r, t) for r in rows]

    def count_by_status(self, owner_id: str | None = None) -> dict[str, int]:
        db, q, _ = self._q()
        with db.reading() as conn:
            rows = q.rows(conn, "count_by_status", {"owner_id": owner_id})
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({r["processing_status"]: int(r["n"]) for r in rows})
        return counts

    def ids_with_status(
        self, status: str, owner_id: str | None = None, limit: int = 10_000
    ) -> list[int]:
        db, q, _ = self._q()
        params = {"status": status, "owner_id": owner_id, "limit": limit}
        with db.reading() as conn:
            return [int(r["id"]) for r in q.rows(conn, "ids_with_status", params)]

    def start_processing(self, document_id: int) -> DocumentRecord | None:
        """Mark processing; None when the document was deleted meanwhile."""
        db, q, t = self._q()
        with db.transaction() as conn:
            row = q.one(conn, "start_processing", {"id": document_id})
        return self._record(row, t) if row else None

    def finish_ready(
        self,
        document_id: int,
        text: str,
        content_type: str,
        now: datetime,
        cut_from: int | None = None,
    ) -> None:
        db, q, t = self._q()
        params = {
            "id": document_id,
            "text": text,
            "content_type": content_type,
            "now": t.to_db(now),
            "cut_from": cut_from,
        }
        with db.transaction() as conn:
            q.execute(conn, "finish_ready", params)

    def finish_failed(
        self, document_id: int, reason: str, now: datetime, content_type: str | None = None
    ) -> None:
        db, q, t = self._q()
        params = {
            "id": document_id,
            "reason": reason,
            "content_type": content_type,
            "now": t.to_db(now),
        }
        with db.transaction() as conn:
            q.execute(conn, "finish_failed", params)

    def delete(self, document_id: int) -> DocumentRecord | None:
        db, q, t = self._q()
        with db.transaction() as conn:
            row = q.one(conn, "delete_document", {"id": document_id})
        return self._record(row, t) if row else None

    def reset(self, ids: Iterable[int]) -> list[DocumentRecord]:
        """Back to pending (documents being processed right now are left alone)."""
        db, q, t = self._q()
        with db.transaction() as conn:
            rows = q.rows(conn, "reset_to_pending", {"ids": t.ids(ids)})
        return [self._record(r, t) for r in rows]

    @staticmethod
    def _record(row: dict[str, Any], t: Times) -> DocumentRecord:
        uploaded = t.from_db(row["uploaded_at"])
        assert uploaded is not None  # NOT NULL column
        return DocumentRecord(
            id=int(row["id"]),
            owner_id=row["owner_id"],
            filename=row["filename"],
            storage_key=row["storage_key"],
            content_type=row["content_type"],
            size_bytes=int(row["size_bytes"]),
            processing_status=row["processing_status"],
            error_reason=row["error_reason"],
            job_id=row["job_id"],
            uploaded_by=row["uploaded_by"],
            uploaded_at=uploaded,
            processed_at=t.from_db(row["processed_at"]),
            indexed_at=t.from_db(row["indexed_at"]),
            text_chars=None if row["text_chars"] is None else int(row["text_chars"]),
            text_cut_from=None if row["text_cut_from"] is None else int(row["text_cut_from"]),
        )
