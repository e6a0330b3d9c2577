-- The task list's search index (migration 0017, store/search.py).

-- name: search_mark
SELECT finished_at, job_id FROM search_progress WHERE id = 1

-- name: index_search
-- One batch of the indexer, in one statement (one snapshot): the next finished jobs past the
-- mark in (finished_at, id) order, up to `lag` seconds ago, get their text written and the
-- mark moves to the last of them. The mark's row is locked SKIP LOCKED: while one worker
-- indexes, another's batch is empty. The text is lower-cased as where_text's scan
-- lower-cases it; one field a line, and no search holds a line break (the search box splits
-- on white space), so no match spans two fields. A job indexed before and retried since
-- gets its new text.
WITH mark AS (
    SELECT finished_at, job_id FROM search_progress WHERE id = 1 FOR UPDATE SKIP LOCKED
),
batch AS (
    SELECT j.id, j.finished_at,
           lower(j.args::text) || E'\n' || lower(j.labels::text) || E'\n'
           || lower(COALESCE(j.summary, '')) || E'\n' || lower(COALESCE(j.error, '')) AS body
    FROM jobs j
    -- Scalar subqueries, not a join to mark: evaluated once, they start the jobs_finished
    -- range at the mark (a join filtered the index from its first entry, every batch).
    WHERE j.finished_at >= (SELECT finished_at FROM mark)
      AND (j.finished_at > (SELECT finished_at FROM mark) OR j.id > (SELECT job_id FROM mark))
      AND j.finished_at <= COALESCE(%(now)s::timestamptz, clock_timestamp())
                           - make_interval(secs => %(lag)s)
    ORDER BY j.finished_at, j.id
    LIMIT %(limit)s
),
written AS (
    INSERT INTO job_search (job_id, body)
    SELECT id, body FROM batch
    ON CONFLICT (job_id) DO UPDATE SET body = excluded.body
),
last AS (
    SELECT finished_at, id FROM batch ORDER BY finished_at DESC, id DESC LIMIT 1
),
moved AS (
    UPDATE search_progress AS s SET finished_at = last.finished_at, job_id = last.id
    FROM last WHERE s.id = 1
)
SELECT COUNT(*) AS n FROM batch

-- name: where_indexed
-- For count_jobs_indexed (job_search joined to jobs): jobs finished at or before the mark
-- whose indexed text holds the search (LIKE on the lower-cased text, wildcards escaped: the
-- same exact substring as where_text's strpos).
body LIKE %(like_pattern)s
AND finished_at IS NOT NULL
AND (finished_at, id) <= (%(mark_at)s::timestamptz, %(mark_id)s::bigint)

-- name: where_indexed_in
-- The same as a condition on jobs alone, for the bulk actions' one WHERE over both parts.
(id IN (SELECT job_id FROM job_search
         WHERE body LIKE %(like_pattern)s AND job_id BETWEEN %(id_low)s AND %(id_high)s)
 AND finished_at IS NOT NULL
 AND (finished_at, id) <= (%(mark_at)s::timestamptz, %(mark_id)s::bigint))

-- name: where_unindexed
-- Every other job: not finished, or finished past the mark (retried jobs among them).
(finished_at IS NULL OR (finished_at, id) > (%(mark_at)s::timestamptz, %(mark_id)s::bigint))

-- name: where_window
-- The newest jobs only: what bounds the scan of the jobs the index does not hold.
id >= %(window_min_id)s

-- name: recent_states
SELECT id, state FROM jobs WHERE {where} ORDER BY id DESC LIMIT %(cap)s

-- name: count_jobs_indexed
SELECT COUNT(*) AS n FROM job_search JOIN jobs ON jobs.id = job_search.job_id WHERE {where}

-- name: search_candidates
-- The indexed part of a search, a chunk at a time (store/listing.py): the ids of the newest
-- matches in the id range, through the trigram index for a rare text, or walking the key
-- newest first for a common one, as the planner estimates.
SELECT job_id AS id FROM job_search WHERE body LIKE %(like_pattern)s AND {where}
ORDER BY job_id DESC LIMIT %(chunk)s

-- name: search_candidates_ascending
SELECT job_id AS id FROM job_search WHERE body LIKE %(like_pattern)s AND {where}
ORDER BY job_id ASC LIMIT %(chunk)s

-- name: where_candidate_ids
-- Only when the page or the dates bound it: an unbounded range made the planner AND a
-- bitmap of the whole key into the trigram index's.
job_id BETWEEN %(id_low)s AND %(id_high)s

-- name: where_indexed_mark
-- Of a chunk of candidates, the jobs still as they were indexed: finished at or before the mark.
(finished_at IS NOT NULL
 AND (finished_at, id) <= (%(mark_at)s::timestamptz, %(mark_id)s::bigint))
