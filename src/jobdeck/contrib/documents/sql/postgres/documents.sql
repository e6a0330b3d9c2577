-- expert_documents: one row per uploaded file.

-- name: insert_document
INSERT INTO expert_documents
    (owner_id, filename, storage_key, content_type, size_bytes, processing_status, uploaded_by,
     uploaded_at)
VALUES (%(owner_id)s, %(filename)s, %(storage_key)s, %(content_type)s, %(size_bytes)s, 'pending',
        %(uploaded_by)s, %(now)s)
RETURNING id;

-- name: set_document_job
UPDATE expert_documents SET job_id = %(job_id)s WHERE id = %(id)s;

-- name: get_document
SELECT id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
       error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
       length(extracted_text) AS text_chars, text_cut_from
FROM expert_documents WHERE id = %(id)s;

-- name: get_document_text
SELECT extracted_text FROM expert_documents WHERE id = %(id)s;

-- name: list_documents
SELECT id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
       error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
       length(extracted_text) AS text_chars, text_cut_from
FROM expert_documents
WHERE (%(owner_id)s::text IS NULL OR owner_id = %(owner_id)s::text)
  AND (%(status)s::text IS NULL OR processing_status = %(status)s::text)
  AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s::bigint)
ORDER BY id DESC
LIMIT %(limit)s;

-- name: count_by_status
SELECT processing_status, count(*) AS n FROM expert_documents
WHERE (%(owner_id)s::text IS NULL OR owner_id = %(owner_id)s::text)
GROUP BY processing_status;

-- name: start_processing
UPDATE expert_documents
SET processing_status = 'processing', error_reason = NULL
WHERE id = %(id)s
RETURNING id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
          error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
          length(extracted_text) AS text_chars, text_cut_from;

-- name: finish_ready
UPDATE expert_documents
SET processing_status = 'ready', extracted_text = %(text)s, content_type = %(content_type)s,
    error_reason = NULL, processed_at = %(now)s, text_cut_from = %(cut_from)s
WHERE id = %(id)s;

-- name: finish_failed
UPDATE expert_documents
SET processing_status = 'failed', extracted_text = NULL, text_cut_from = NULL,
    error_reason = %(reason)s,
    content_type = coalesce(%(content_type)s::text, content_type), processed_at = %(now)s
WHERE id = %(id)s;

-- name: delete_document
DELETE FROM expert_documents WHERE id = %(id)s
RETURNING id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
          error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
          NULL::integer AS text_chars, NULL::integer AS text_cut_from;

-- name: reset_to_pending
UPDATE expert_documents
SET processing_status = 'pending', error_reason = NULL
WHERE id = ANY(%(ids)s::bigint[]) AND processing_status <> 'processing'
RETURNING id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
          error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
          length(extracted_text) AS text_chars, text_cut_from;

-- name: ids_with_status
SELECT id FROM expert_documents
WHERE processing_status = %(status)s
  AND (%(owner_id)s::text IS NULL OR owner_id = %(owner_id)s::text)
ORDER BY id
LIMIT %(limit)s;
