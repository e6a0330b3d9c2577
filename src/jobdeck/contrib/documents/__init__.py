"""Expert documents: upload, text extraction, a search index and attorney search, as jobs.

``install_documents(deck, storage=...)`` registers the ``process_document`` and
``index_document_chunks`` tasks and returns the ``Documents`` object that uploads, deletes,
reprocesses and searches. Web pages (``jobdeck.contrib.documents.web``) and CLI commands
(``jobdeck.contrib.documents.cli``) are imported only by those who mount them.
"""

from jobdeck.contrib.documents.extract import ExtractionFailed, UnsupportedFormat
from jobdeck.contrib.documents.index import Chunker, SearchHit, SearchIndex, SqlSearchIndex
from jobdeck.contrib.documents.pipeline import (
    DocumentError,
    DocumentFailed,
    DocumentNotFound,
    Documents,
    DocumentSettings,
    DocumentTooLarge,
    documents_of,
    install_documents,
)
from jobdeck.contrib.documents.repository import DocumentRecord
from jobdeck.contrib.documents.storage import (
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    StoredFileMissing,
    StoredFileTooLarge,
    storage_from_url,
)

__all__ = [
    "Chunker",
    "DocumentError",
    "DocumentFailed",
    "DocumentNotFound",
    "DocumentRecord",
    "DocumentSettings",
    "DocumentTooLarge",
    "Documents",
    "ExtractionFailed",
    "LocalStorage",
    "S3Storage",
    "SearchHit",
    "SearchIndex",
    "SqlSearchIndex",
    "Storage",
    "StorageError",
    "StoredFileMissing",
    "StoredFileTooLarge",
    "UnsupportedFormat",
    "documents_of",
    "install_documents",
    "storage_from_url",
]
