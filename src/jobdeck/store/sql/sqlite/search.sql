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
-- For count_jobs_indexed (job_search joined to jobs): jobs finished at or before the mark
-- whose indexed text holds the search: a phrase of the search's trigrams, in a table whose
-- trigrams keep their case (0017), over lower-cased text: the same exact substring as
-- where_text's instr.
job_search MATCH :fts_phrase
AND finished_at IS NOT NULL
AND (finished_at < :mark_at OR (finished_at = :mark_at AND id <= :mark_id))

-- name: where_indexed_in
-- The same as a condition on jobs alone, for the bulk actions' one WHERE over both parts.
(id IN (SELECT rowid FROM job_search
         WHERE job_search MATCH :fts_phrase AND rowid BETWEEN :id_low AND :id_high)
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

-- name: count_jobs_indexed
SELECT COUNT(*) AS n FROM job_search CROSS JOIN jobs ON jobs.id = job_search.rowid
WHERE {where}

-- name: search_candidates
-- The indexed part of a search, a chunk at a time (store/listing.py): the ids of the newest
-- matches in the id range. FTS5 hands them over in rowid order, so a chunk of a text every
-- job holds costs a chunk, not every match. A phrase query, not GLOB '*text*': GLOB made
-- SQLite re-read and re-match every candidate's text (4x slower on 6,000 matches).
SELECT rowid AS id FROM job_search WHERE job_search MATCH :fts_phrase AND {where}
ORDER BY rowid DESC LIMIT :chunk

-- name: search_candidates_ascending
SELECT rowid AS id FROM job_search WHERE job_search MATCH :fts_phrase AND {where}
ORDER BY rowid ASC LIMIT :chunk

-- name: where_candidate_ids
-- One lower and one upper bound: FTS5 takes one of each on its rowid.
rowid BETWEEN :id_low AND :id_high

-- name: where_indexed_mark
-- Of a chunk of candidates, the jobs still as they were indexed: finished at or before the mark.
(finished_at IS NOT NULL
 AND (finished_at < :mark_at OR (finished_at = :mark_at AND id <= :mark_id)))
