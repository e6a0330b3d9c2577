"""The document pipeline on a deck: the ``process_document`` and ``index_document_chunks`` tasks,
and ``Documents``, the object uploads, deletes, reprocessing and search go through.

>>> from jobdeck.contrib.documents import install_documents, LocalStorage
>>> documents = install_documents(deck, storage=LocalStorage("uploads"))
>>> record = documents.upload("expert-42", "cv.pdf", pdf_bytes)
>>> documents.search("hydrogeology")
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobdeck.contrib.documents.db import Database, StoreDatabase
from jobdeck.contrib.documents.extract import (
    ExtractionFailed,
    ExtractOptions,
    sniff,
)
from jobdeck.contrib.documents.extractors import Extractor, ExtractorPool, InlineExtractor
from jobdeck.contrib.documents.index import Chunker, SearchHit, SearchIndex, SqlSearchIndex
from jobdeck.contrib.documents.repository import (
    STATUSES,
    DocumentRecord,
    DocumentRepository,
    NewDocument,
)
from jobdeck.contrib.documents.storage import (
    LocalStorage,
    Storage,
    StorageError,
    StoredFileMissing,
    StoredFileTooLarge,
    describe_size,
    new_key,
)
from jobdeck.errors import ConfigError, JobDeckError, JobNotFound, PermanentFailure
from jobdeck.extras import require_extra
from jobdeck.settings import check_option_names

if TYPE_CHECKING:
    from jobdeck.deck import Deck
    from jobdeck.tasks import JobHandle, Task

log = logging.getLogger("jobdeck.documents")

PROCESS_TASK = "process_document"
INDEX_TASK = "index_document_chunks"
_FILENAME_UNSAFE = re.compile(r"[^\w .()+,=@~-]+", re.UNICODE)


class DocumentError(JobDeckError):
    """An upload or an operation refused for a reason the caller can fix."""


class DocumentNotFound(JobNotFound):
    """No document has the given id."""


class DocumentTooLarge(DocumentError):
    """An upload over ``max_bytes``."""


class DocumentFailed(PermanentFailure):
    """Raised by ``process_document`` when a document cannot be processed as it is.

    The document is already marked ``failed`` with the same reason; the exception gives the
    job's attempt its error and traceback. Retrying cannot help (the file is what it is), so
    the job fails at once, without an operator alert.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class DocumentSettings:
    """Choices for ``install_documents``; a misspelt option fails with a hint."""

    max_bytes: int = ExtractOptions.max_bytes
    max_text_chars: int = ExtractOptions.max_text_chars
    queue: str = "default"
    max_attempts: int = 3
    # Seconds a re-index waits before it runs: uploads that land meanwhile share it.
    index_delay: float = 1.0
    # "process": extraction in a pool of child processes (a hard timeout, another core);
    # "thread": in the worker's thread (no isolation; for tests and tiny documents).
    extract_in: str = "process"
    extract_processes: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    extract_timeout: float = 120.0
    extract_memory_mb: int | None = 2048
    antiword: str = ExtractOptions.antiword
    chunk_words: int = 150
    chunk_overlap: int = 25

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ConfigError("max_bytes must be positive")
        if self.extract_in not in ("process", "thread"):
            raise ConfigError(f"extract_in must be 'process' or 'thread', not {self.extract_in!r}")
        if self.index_delay < 0:
            raise ConfigError("index_delay cannot be negative")

    @classmethod
    def build(cls, **options: Any) -> DocumentSettings:
        check_option_names(options, list(cls.__dataclass_fields__), "documents option")
        return cls(**options)

    def extract_options(self) -> ExtractOptions:
        return ExtractOptions(self.max_bytes, self.max_text_chars, self.antiword)


def install_documents(
    deck: Deck,
    storage: Storage | None = None,
    *,
    database: Database | None = None,
    index: SearchIndex | None = None,
    **options: Any,
) -> Documents:
    """Register ``process_document`` and ``index_document_chunks`` on ``deck``.

    ``storage`` defaults to a ``documents`` folder beside the current directory. The records
    live in the deck's database (migration 0004); ``database`` overrides how they are reached.
    Options: see ``DocumentSettings`` (max_bytes, queue, index_delay, extract_in, ...).
    """
    require_extra("documents", "document processing")
    settings = DocumentSettings.build(**options)
    if documents_of(deck) is not None:
        raise ConfigError("documents are already installed on this deck: keep the first object")
    return Documents(deck, storage or LocalStorage("documents"), settings, database, index)


def documents_of(deck: Deck) -> Documents | None:
    """The pipeline installed on ``deck`` (the CLI finds the app's storage this way): the
    object whose method is the deck's ``process_document`` task."""
    task = deck.tasks.get(PROCESS_TASK)
    owner = getattr(task.fn, "__self__", None) if task is not None else None
    return owner if isinstance(owner, Documents) else None


def sanitize_filename(name: str) -> str:
    """The last path part, NFC, safe characters only, at most 150 characters, extension kept."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = _FILENAME_UNSAFE.sub("_", base).strip(" ._") or "document"
    stem, dot, extension = base.rpartition(".")
    if not dot or len(extension) > 10:
        stem, extension = base, ""
    stem = re.sub(r"\s+", " ", stem)[: 150 - len(extension) - 1].strip() or "document"
    return f"{stem}.{extension}" if extension else stem


def check_owner(owner_id: str) -> str:
    owner = str(owner_id).strip()
    if not owner or len(owner) > 200 or any(unicodedata.category(c)[0] == "C" for c in owner):
        raise DocumentError(f"invalid owner id {owner_id!r}: 1 to 200 printable characters")
    return owner


class Documents:
    """Uploads, the two pipeline tasks, deletion, reprocessing and search for one deck."""

    def __init__(
        self,
        deck: Deck,
        storage: Storage,
        settings: DocumentSettings,
        database: Database | None = None,
        index: SearchIndex | None = None,
    ) -> None:
        self.deck = deck
        self.storage = storage
        self.settings = settings
        self._database = database
        self._lock = threading.Lock()
        self._extractor: Extractor | None = None
        self.repository = DocumentRepository(self.database)
        self.index: SearchIndex = index or SqlSearchIndex(
            self.database, Chunker(settings.chunk_words, settings.chunk_overlap)
        )
        task_options = {"queue": settings.queue, "max_attempts": settings.max_attempts}
        self.process_task: Task[..., dict[str, Any]] = deck.task(
            name=PROCESS_TASK, expected_duration=settings.extract_timeout, **task_options
        )(self._process_document)
        self.index_task: Task[..., dict[str, Any]] = deck.task(name=INDEX_TASK, **task_options)(
            self._index_document_chunks
        )

    def __repr__(self) -> str:
        return f"<Documents {self.storage!r} on {self.deck.database_url}>"

    # -- plumbing ------------------------------------------------------------------------------

    def database(self) -> Database:
        """The deck's store (looked up on each use: ``--database`` may repoint the deck)."""
        if self._database is not None:
            return self._database
        return StoreDatabase(self.deck.store)

    def extractor(self) -> Extractor:
        with self._lock:
            if self._extractor is None:
                s = self.settings
                self._extractor = (
                    ExtractorPool(s.extract_processes, s.extract_timeout, s.extract_memory_mb)
                    if s.extract_in == "process"
                    else InlineExtractor()
                )
            return self._extractor

    def close(self) -> None:
        """Stop the extractor processes (the deck closes its own store)."""
        with self._lock:
            extractor, self._extractor = self._extractor, None
        if extractor is not None:
            extractor.close()

    def _labels(self, record: DocumentRecord) -> dict[str, str]:
        return {
            "owner_id": record.owner_id,
            "document_id": str(record.id),
            "filename": record.filename,
        }

    # -- uploads -------------------------------------------------------------------------------

    def upload(
        self, owner_id: str, filename: str, data: bytes, *, uploaded_by: str | None = None
    ) -> DocumentRecord:
        """Store the file, record it as pending and enqueue ``process_document`` for it."""
        owner = check_owner(owner_id)
        name = sanitize_filename(filename)
        if len(data) > self.settings.max_bytes:
            raise DocumentTooLarge(
                f"{name} is {describe_size(len(data))}: the limit is "
                f"{describe_size(self.settings.max_bytes)}"
            )
        found = sniff(data)
        key = new_key(owner, name)
        self.storage.put(key, data, found.content_type)
        new = NewDocument(owner, name, key, found.content_type, len(data), uploaded_by)
        try:
            document_id = self._insert_and_enqueue(new)
        except BaseException:
            try:
                self.storage.delete(key)  # no record points at it
            except StorageError as exc:
                log.warning("could not remove %s after a failed upload: %s", key, exc)
            raise
        record = self.get(document_id)
        log.info("document %d (%s) uploaded for %s: %s", record.id, name, owner, found.description)
        return record

    def add_file(
        self, owner_id: str, path: str | Path, *, uploaded_by: str | None = None
    ) -> DocumentRecord:
        source = Path(path)
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise DocumentError(f"cannot read {source}: {exc.strerror or exc}") from None
        if size > self.settings.max_bytes:
            raise DocumentTooLarge(
                f"{source.name} is {describe_size(size)}: the limit is "
                f"{describe_size(self.settings.max_bytes)}"
            )
        return self.upload(owner_id, source.name, source.read_bytes(), uploaded_by=uploaded_by)

    def _insert_and_enqueue(self, new: NewDocument) -> int:
        db = self.database()
        now = self.deck.clock.now()
        labels = {"owner_id": new.owner_id, "filename": new.filename}
        if db.dialect == "postgres":
            # One transaction: a record never exists without its job, nor a job without it.
            with db.transaction() as conn:
                document_id = self.repository.insert(conn, new, now)
                job = self.process_task.options(
                    conn=conn, labels={**labels, "document_id": str(document_id)}
                ).enqueue(document_id=document_id)
                self.repository.set_job(document_id, job.id, conn)
            return document_id
        # SQLite allows one writer: the enqueue follows the commit. A crash in between leaves
        # the record pending; `jobdeck documents reprocess --status pending` picks it up.
        with db.transaction() as conn:
            document_id = self.repository.insert(conn, new, now)
        job = self.process_task.options(labels={**labels, "document_id": str(document_id)}).enqueue(
            document_id=document_id
        )
        self.repository.set_job(document_id, job.id)
        return document_id

    # -- reading -------------------------------------------------------------------------------

    def get(self, document_id: int) -> DocumentRecord:
        record = self.repository.get(document_id)
        if record is None:
            raise DocumentNotFound(f"document {document_id} does not exist")
        return record

    def find(
        self,
        owner_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[DocumentRecord]:
        if status is not None and status not in STATUSES:
            raise ConfigError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        return self.repository.find(owner_id, status, limit, before_id)

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Experts whose ready documents contain every word of ``query``, best first."""
        return self.index.search(query, max(1, min(limit, 100)))

    # -- operating -----------------------------------------------------------------------------

    def delete(self, document_id: int) -> DocumentRecord:
        """Remove the record, its search entries and its file, then re-index its owner."""
        record = self.repository.delete(document_id)
        if record is None:
            raise DocumentNotFound(f"document {document_id} does not exist")
        self.index.remove_document(document_id)
        try:
            self.storage.delete(record.storage_key)
        except StorageError as exc:
            log.warning("document %d deleted, its file was not: %s", document_id, exc)
        self.reindex(record.owner_id, because=record)
        return record

    def reprocess(self, document_id: int) -> JobHandle:
        """Extract one document again (after fixing the file, or installing antiword)."""
        records = self.repository.reset([document_id])
        if not records:
            self.get(document_id)  # raises if it does not exist
            raise DocumentError(f"document {document_id} is being processed right now")
        return self._enqueue_processing(records[0])

    def reprocess_status(
        self, status: str = "failed", owner_id: str | None = None
    ) -> list[DocumentRecord]:
        """Reprocess every document with ``status`` (failed, or pending ones left behind)."""
        if status not in ("failed", "pending", "ready"):
            raise ConfigError("reprocess documents that are failed, pending or ready")
        records = self.repository.reset(self.repository.ids_with_status(status, owner_id))
        return [
            dataclasses.replace(record, job_id=self._enqueue_processing(record).id)
            for record in records
        ]

    def _enqueue_processing(self, record: DocumentRecord) -> JobHandle:
        job = self.process_task.options(labels=self._labels(record)).enqueue(document_id=record.id)
        self.repository.set_job(record.id, job.id)
        return job

    def reindex(self, owner_id: str, because: DocumentRecord | None = None) -> JobHandle:
        """Enqueue a re-index of the owner; one already waiting to run is reused."""
        labels = (
            self._labels(because)
            if because is not None
            else {"owner_id": owner_id, "document_id": "all", "filename": "all"}
        )
        return self.index_task.options(
            unique_key=f"index:{owner_id}",
            unique_while="pending",
            delay=self.settings.index_delay or None,
            labels=labels,
        ).enqueue(owner_id=owner_id)

    # -- the tasks -----------------------------------------------------------------------------

    def _process_document(self, document_id: int) -> dict[str, Any]:
        """Download, extract and store the text of one document, then queue its owner's
        re-index. A file that cannot be processed as it is (an unsupported format, a corrupt
        or encrypted PDF) fails its job at once, without retries: the guide's troubleshooting
        path (process_document + Failed, open the drawer) finds it."""
        record = self.repository.start_processing(document_id)
        if record is None:
            return {"document_id": document_id, "skipped": True, "reason": "document deleted"}
        summary = {
            "document_id": record.id,
            "owner_id": record.owner_id,
            "filename": record.filename,
        }
        was_indexed = record.indexed_at is not None
        try:
            data = self._download(record)
            extracted = self.extractor().run(data, self.settings.extract_options())
        except ExtractionFailed as exc:
            self._fail(record, exc.reason, reindex=was_indexed)
            raise DocumentFailed(exc.code, exc.reason) from exc
        except (StoredFileMissing, StoredFileTooLarge) as exc:
            code = "missing_file" if isinstance(exc, StoredFileMissing) else "too_large"
            reason = (
                f"file missing from storage: {exc}; upload it again"
                if code == "missing_file"
                else str(exc)
            )
            self._fail(record, reason, reindex=was_indexed)
            raise DocumentFailed(code, reason) from exc
        except StorageError as exc:
            # Worth retrying: the attempt fails and the job runs again after its backoff.
            self._fail(record, f"storage unavailable (will retry): {exc}", reindex=False)
            raise
        except Exception as exc:
            # Not the file's fault (a bug, the database, a broken extractor): the attempt fails
            # and is retried, and the record says so instead of staying "processing".
            self._fail(record, f"processing error (will retry): {_error_line(exc)}", reindex=False)
            raise
        self.repository.finish_ready(
            record.id,
            extracted.text,
            extracted.content_type,
            self.deck.clock.now(),
            extracted.full_chars,
        )
        self.reindex(record.owner_id, because=record)
        pages = f" from {extracted.pages} page(s)" if extracted.pages else ""
        note = (
            f" (cut: the text has {extracted.full_chars} characters; max_text_chars is "
            f"{self.settings.max_text_chars})"
            if extracted.truncated
            else ""
        )
        return {
            **summary,
            "format": extracted.kind,
            "pages": extracted.pages,
            "characters": len(extracted.text),
            "truncated": extracted.truncated,
            "summary": f"extracted {len(extracted.text)} characters{pages}{note}",
        }

    def _download(self, record: DocumentRecord) -> bytes:
        return self.storage.read(record.storage_key, self.settings.max_bytes)

    def _fail(self, record: DocumentRecord, reason: str, *, reindex: bool) -> None:
        self.repository.finish_failed(record.id, reason, self.deck.clock.now())
        if reindex:  # its old text is still searchable until the owner is re-indexed
            self.reindex(record.owner_id, because=record)

    def _index_document_chunks(self, owner_id: str) -> dict[str, Any]:
        """Rebuild the owner's search entries from all their ready documents."""
        report = self.index.reindex_owner(owner_id, self.deck.clock.now())
        return {
            "owner_id": owner_id,
            "documents": report.documents,
            "chunks": report.chunks,
            "summary": f"indexed {report.documents} document(s) in {report.chunks} chunk(s)",
        }


def _error_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
