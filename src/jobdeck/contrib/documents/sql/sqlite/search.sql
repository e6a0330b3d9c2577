-- The search index: document_chunks rows, indexed by the FTS5 table document_chunks_fts.
-- External content: FTS5 is told about every row added or removed, with the same body text.

-- name: lock_owner
-- Nothing to do: the write transaction (BEGIN IMMEDIATE) already serialises re-indexing.

-- name: ready_documents
SELECT id, filename, extracted_text FROM expert_documents
WHERE owner_id = :owner_id AND processing_status = 'ready'
ORDER BY id;

-- name: delete_owner_chunks
INSERT INTO document_chunks_fts (document_chunks_fts, rowid, body)
SELECT 'delete', id, body FROM document_chunks WHERE owner_id = :owner_id;
DELETE FROM document_chunks WHERE owner_id = :owner_id;

-- name: insert_chunk
INSERT INTO document_chunks (owner_id, document_id, filename, chunk_no, body)
VALUES (:owner_id, :document_id, :filename, :chunk_no, :body);

-- name: index_owner_chunks
INSERT INTO document_chunks_fts (rowid, body)
SELECT id, body FROM document_chunks WHERE owner_id = :owner_id;

-- name: mark_owner_indexed
UPDATE expert_documents
SET indexed_at = CASE WHEN processing_status = 'ready' THEN :now END
WHERE owner_id = :owner_id;

-- name: delete_document_chunks
INSERT INTO document_chunks_fts (document_chunks_fts, rowid, body)
SELECT 'delete', id, body FROM document_chunks WHERE document_id = :document_id;
DELETE FROM document_chunks WHERE document_id = :document_id;

-- name: indexed_documents
SELECT DISTINCT document_id FROM document_chunks WHERE owner_id = :owner_id;

-- name: count_chunks
SELECT count(*) AS n FROM document_chunks WHERE (:owner_id IS NULL OR owner_id = :owner_id);

-- name: search_owners
-- Owners whose chunks hold every term (anywhere in their documents), ranked by their best
-- chunk for any of the terms (rank is bm25: lower is better, so relevance is its negation).
-- With one term every owner with a hit qualifies, and the per-term pass is skipped.
WITH terms AS (SELECT key AS term_no, value AS term FROM json_each(:terms)),
term_owners AS (
    SELECT DISTINCT terms.term_no, c.owner_id
    FROM terms, document_chunks_fts
    JOIN document_chunks c ON c.id = document_chunks_fts.rowid
    WHERE document_chunks_fts MATCH terms.term
),
owners AS (
    SELECT owner_id FROM term_owners
    GROUP BY owner_id
    HAVING count(*) = (SELECT count(*) FROM terms)
),
hits AS (
    SELECT rowid AS chunk_id, rank AS score
    FROM document_chunks_fts
    WHERE document_chunks_fts MATCH :any_query
),
ranked AS (
    SELECT c.id AS chunk_id, c.owner_id, c.document_id, c.filename, h.score,
           row_number() OVER (PARTITION BY c.owner_id ORDER BY h.score, c.id) AS place,
           count(*) OVER (PARTITION BY c.owner_id) AS matches
    FROM hits h JOIN document_chunks c ON c.id = h.chunk_id
    WHERE (SELECT count(*) FROM terms) = 1 OR c.owner_id IN (SELECT owner_id FROM owners)
)
SELECT chunk_id, owner_id, document_id, filename, -score AS relevance, matches
FROM ranked
WHERE place = 1
ORDER BY relevance DESC, owner_id
LIMIT :limit;

-- name: search_snippets
SELECT rowid AS chunk_id,
       snippet(document_chunks_fts, 0, :open, :close, :ellipsis, :words) AS snippet
FROM document_chunks_fts
WHERE document_chunks_fts MATCH :any_query AND rowid IN (SELECT value FROM json_each(:ids));

-- name: rebuild_index
INSERT INTO document_chunks_fts (document_chunks_fts) VALUES ('rebuild');
