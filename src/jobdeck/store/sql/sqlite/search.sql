-- The task list's search index (migration 0017, store/search.py).

-- name: search_mark
SELECT finished_at, job_id FROM search_progress WHERE id = 1

-- name: search_batch
-- The next finished jobs past the mark, in (finished_at, id) order: a range of the
-- jobs_finished index, which ends in the rowid, so no sort.
SELECT id, finished_at FROM jobs
WHERE finished_at IS NOT NULL AND finished_at >= :mark_at
  AND (finished_at > :mark_at OR id > :mark_id) AND finished_at <= :until
ORDER BY finished_at, id
LIMIT :limit

-- name: search_write
-- A job indexed before and retried since gets its new text (REPLACE on the rowid). The text
-- is lower-cased as where_text's scan lower-cases it; one field a line, and no search holds a
-- line break (the search box splits on white space), so no match spans two fields.
INSERT OR REPLACE INTO job_search (rowid, body)
SELECT id, lower(args) || char(10) || lower(labels) || char(10)
           || lower(COALESCE(summary, '')) || char(10) || lower(COALESCE(error, ''))
FROM jobs WHERE id IN (SELECT value FROM json_each(:ids))

-- name: delete_search_of
-- With the jobs it indexes (prune, bulk delete).
DELETE FROM job_search WHERE rowid IN (SELECT value FROM json_each(:ids))

-- name: search_mark_move
UPDATE search_progress SET finished_at = :finished_at, job_id = :job_id WHERE id = 1

-- name: where_indexed
-- For the *_indexed queries (job_search joined to jobs): jobs finished at or before the mark
-- (the id bounds of the page and dates repeated on job_search, whose walk they then bound),
-- whose indexed text holds the search. GLOB is case-sensitive over lower-cased text: the same
-- exact substring as where_text's instr.
body GLOB :glob_pattern
AND finished_at IS NOT NULL
AND (finished_at < :mark_at OR (finished_at = :mark_at AND id <= :mark_id))
AND job_search.rowid BETWEEN :id_low AND :id_high

-- name: where_indexed_in
-- The same as a condition on jobs alone, for the bulk actions' one WHERE over both parts.
(id IN (SELECT rowid FROM job_search
         WHERE body GLOB :glob_pattern AND rowid BETWEEN :id_low AND :id_high)
 AND finished_at IS NOT NULL
 AND (finished_at < :mark_at OR (finished_at = :mark_at AND id <= :mark_id)))

-- name: where_unindexed
-- Every other job: not finished, or finished past the mark (retried jobs among them).
(finished_at IS NULL OR finished_at > :mark_at OR (finished_at = :mark_at AND id > :mark_id))

-- name: where_window
-- The newest jobs only: what bounds the scan of the jobs the index does not hold.
id >= :window_min_id

-- name: recent_states
SELECT id, state FROM jobs WHERE {where} ORDER BY id DESC LIMIT :cap

-- The indexed part of a search. CROSS JOIN keeps job_search the outer loop: FTS5 hands its
-- matches over newest first (rowid DESC), so a page of a search that matches every job
-- stops after a page of them instead of collecting them all first.

-- name: list_jobs_indexed
SELECT jobs.* FROM job_search CROSS JOIN jobs ON jobs.id = job_search.rowid
WHERE {where} ORDER BY job_search.rowid DESC LIMIT :limit

-- name: list_jobs_ascending_indexed
SELECT jobs.* FROM job_search CROSS JOIN jobs ON jobs.id = job_search.rowid
WHERE {where} ORDER BY job_search.rowid ASC LIMIT :limit

-- name: count_jobs_indexed
SELECT COUNT(*) AS n FROM job_search CROSS JOIN jobs ON jobs.id = job_search.rowid
WHERE {where}

-- name: recent_states_indexed
SELECT jobs.id, jobs.state FROM job_search CROSS JOIN jobs ON jobs.id = job_search.rowid
WHERE {where} ORDER BY job_search.rowid DESC LIMIT :cap

-- name: search_rows
SELECT COUNT(*) AS n FROM job_search
