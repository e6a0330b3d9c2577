-- Documents uploaded by experts (jobdeck.contrib.documents) and their full-text search index.
-- Same tables and columns as the PostgreSQL 0004; there the index is a GIN index on
-- to_tsvector(body), here the FTS5 table document_chunks_fts (external content: it indexes
-- document_chunks.body without keeping a second copy; the repository maintains it).
CREATE TABLE expert_documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    processing_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (processing_status IN ('pending', 'processing', 'ready', 'failed')),
    extracted_text TEXT,
    error_reason TEXT,
    job_id INTEGER,
    uploaded_by TEXT,
    uploaded_at TEXT NOT NULL,
    processed_at TEXT,
    indexed_at TEXT
);
CREATE INDEX expert_documents_owner ON expert_documents (owner_id, processing_status);
CREATE INDEX expert_documents_status ON expert_documents (processing_status, id);

-- One row per chunk of a ready document; an owner's rows are replaced in one transaction.
CREATE TABLE document_chunks (
    id INTEGER PRIMARY KEY,
    owner_id TEXT NOT NULL,
    document_id INTEGER NOT NULL,
    filename TEXT NOT NULL,
    chunk_no INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX document_chunks_owner ON document_chunks (owner_id);
CREATE UNIQUE INDEX document_chunks_document ON document_chunks (document_id, chunk_no);

CREATE VIRTUAL TABLE document_chunks_fts USING fts5(
    body,
    content = 'document_chunks',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
