-- expert_documents: one row per uploaded file. Timestamps are UTC text, as in jobdeck's store.

-- name: insert_document
INSERT INTO expert_documents
    (owner_id, filename, storage_key, content_type, size_bytes, processing_status, uploaded_by,
     uploaded_at)
VALUES (:owner_id, :filename, :storage_key, :content_type, :size_bytes, 'pending', :uploaded_by,
        :now)
RETURNING id;

-- name: set_document_job
UPDATE expert_documents SET job_id = :job_id WHERE id = :id;

-- name: get_document
SELECT id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
       error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
       length(extracted_text) AS text_chars, text_cut_from
FROM expert_documents WHERE id = :id;

-- name: get_document_text
SELECT extracted_text FROM expert_documents WHERE id = :id;

-- name: list_documents
SELECT id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
       error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
       length(extracted_text) AS text_chars, text_cut_from
FROM expert_documents
WHERE (:owner_id IS NULL OR owner_id = :owner_id)
  AND (:status IS NULL OR processing_status = :status)
  AND (:before_id IS NULL OR id < :before_id)
ORDER BY id DESC
LIMIT :limit;

-- name: count_by_status
SELECT processing_status, count(*) AS n FROM expert_documents
WHERE (:owner_id IS NULL OR owner_id = :owner_id)
GROUP BY processing_status;

-- name: start_processing
UPDATE expert_documents
SET processing_status = 'processing', error_reason = NULL
WHERE id = :id
RETURNING id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
          error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
          length(extracted_text) AS text_chars, text_cut_from;

-- name: finish_ready
UPDATE expert_documents
SET processing_status = 'ready', extracted_text = :text, content_type = :content_type,
    error_reason = NULL, processed_at = :now, text_cut_from = :cut_from
WHERE id = :id;

-- name: finish_failed
UPDATE expert_documents
SET processing_status = 'failed', extracted_text = NULL, text_cut_from = NULL,
    error_reason = :reason,
    content_type = coalesce(:content_type, content_type), processed_at = :now
WHERE id = :id;

-- name: delete_document
DELETE FROM expert_documents WHERE id = :id
RETURNING id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
          error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
          NULL AS text_chars, NULL AS text_cut_from;

-- name: reset_to_pending
UPDATE expert_documents
SET processing_status = 'pending', error_reason = NULL
WHERE id IN (SELECT value FROM json_each(:ids)) AND processing_status <> 'processing'
RETURNING id, owner_id, filename, storage_key, content_type, size_bytes, processing_status,
          error_reason, job_id, uploaded_by, uploaded_at, processed_at, indexed_at,
          length(extracted_text) AS text_chars, text_cut_from;

-- name: ids_with_status
SELECT id FROM expert_documents
WHERE processing_status = :status AND (:owner_id IS NULL OR owner_id = :owner_id)
ORDER BY id
LIMIT :limit;
