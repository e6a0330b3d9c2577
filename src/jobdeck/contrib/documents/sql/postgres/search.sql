-- The search index: document_chunks rows, their stored search_vector and its GIN index.

-- name: lock_owner
-- Re-indexing one owner twice at once must not let the older snapshot commit last.
SELECT pg_advisory_xact_lock(hashtextextended('jobdeck.documents:' || %(owner_id)s, 0));

-- name: ready_documents
SELECT id, filename, extracted_text FROM expert_documents
WHERE owner_id = %(owner_id)s AND processing_status = 'ready'
ORDER BY id;

-- name: delete_owner_chunks
DELETE FROM document_chunks WHERE owner_id = %(owner_id)s;

-- name: insert_chunk
INSERT INTO document_chunks (owner_id, document_id, filename, chunk_no, body)
VALUES (%(owner_id)s, %(document_id)s, %(filename)s, %(chunk_no)s, %(body)s);

-- name: index_owner_chunks
-- Nothing to do: search_vector is generated from body and the GIN index follows it.

-- name: mark_owner_indexed
UPDATE expert_documents
SET indexed_at = CASE WHEN processing_status = 'ready' THEN %(now)s::timestamptz END
WHERE owner_id = %(owner_id)s;

-- name: delete_document_chunks
DELETE FROM document_chunks WHERE document_id = %(document_id)s;

-- name: indexed_documents
SELECT DISTINCT document_id FROM document_chunks WHERE owner_id = %(owner_id)s;

-- name: count_chunks
SELECT count(*) AS n FROM document_chunks
WHERE (%(owner_id)s::text IS NULL OR owner_id = %(owner_id)s::text);

-- name: search_owners
-- Owners whose chunks hold every term (anywhere in their documents), ranked by their best
-- chunk for any of the terms (ts_rank: higher is better). Which owners have a term comes from
-- the GIN index alone; only the chunks of those owners are ranked, which reads their vectors.
-- Stop words match nothing and are left out of "every term".
WITH terms AS (
    SELECT n AS term_no, q
    FROM (
        SELECT n, plainto_tsquery('english', term) AS q
        FROM unnest(%(terms)s::text[]) WITH ORDINALITY AS t(term, n)
    ) parsed
    WHERE numnode(q) > 0
),
term_owners AS (
    SELECT DISTINCT t.term_no, c.owner_id
    FROM terms t JOIN document_chunks c ON c.search_vector @@ t.q
),
owners AS (
    SELECT owner_id FROM term_owners
    GROUP BY owner_id
    HAVING count(*) = (SELECT count(*) FROM terms)
),
hits AS (
    SELECT c.id AS chunk_id, c.owner_id, c.document_id, c.filename,
           ts_rank(c.search_vector, to_tsquery('english', %(any_query)s)) AS score
    FROM document_chunks c
    WHERE c.search_vector @@ to_tsquery('english', %(any_query)s)
      AND ((SELECT count(*) FROM terms) = 1 OR c.owner_id IN (SELECT owner_id FROM owners))
),
ranked AS (
    SELECT h.*,
           row_number() OVER (PARTITION BY h.owner_id ORDER BY h.score DESC, h.chunk_id) AS place,
           count(*) OVER (PARTITION BY h.owner_id) AS matches
    FROM hits h
)
SELECT chunk_id, owner_id, document_id, filename, score AS relevance, matches
FROM ranked
WHERE place = 1
ORDER BY relevance DESC, owner_id
LIMIT %(limit)s;

-- name: search_snippets
SELECT id AS chunk_id,
       ts_headline('english', body, to_tsquery('english', %(any_query)s), %(options)s)
           AS snippet
FROM document_chunks
WHERE id = ANY(%(ids)s::bigint[]);

-- name: rebuild_index
-- Nothing to do: REINDEX is an operator's tool on PostgreSQL.
