-- Error groups (migration 0011): written by complete_jobs (queries.sql), read by the Failures
-- view, /api/errors, `jobdeck errors`, /metrics and the new-group alert rule.

-- name: list_error_groups
-- The period's minutes of the rollup (its primary key leads with the minute), then one
-- primary-key lookup per group found.
WITH counted AS (
    SELECT fingerprint, SUM(failures) AS failures, COUNT(DISTINCT task) AS tasks,
           MAX(minute) AS last_minute
    FROM error_group_minute
    WHERE minute >= %(since)s AND minute < %(until)s
    GROUP BY fingerprint
)
SELECT g.*, c.failures, c.tasks, c.last_minute
FROM counted AS c JOIN error_groups AS g ON g.fingerprint = c.fingerprint
WHERE %(include_muted)s OR g.muted_at IS NULL
ORDER BY c.failures DESC, g.fingerprint
LIMIT %(limit)s

-- name: get_error_group
SELECT g.*, COALESCE(SUM(m.failures), 0) AS failures, COUNT(DISTINCT m.task) AS tasks,
       MAX(m.minute) AS last_minute
FROM error_groups AS g LEFT JOIN error_group_minute AS m ON m.fingerprint = g.fingerprint
WHERE g.fingerprint = %(fingerprint)s
GROUP BY g.fingerprint

-- name: error_group_series
-- The bucket in epoch seconds, as stats_series: a timestamptz per row costs a third more.
SELECT fingerprint,
       (FLOOR(EXTRACT(EPOCH FROM minute) / %(bucket)s) * %(bucket)s)::bigint AS bucket,
       SUM(failures) AS failures
FROM error_group_minute
WHERE fingerprint = ANY(%(fingerprints)s::text[])
  AND minute >= %(since)s AND minute < %(until)s
GROUP BY 1, 2
ORDER BY 1, 2

-- name: set_error_group_muted
UPDATE error_groups
SET muted_at = CASE WHEN %(muted_by)s::text IS NULL THEN NULL ELSE %(now)s::timestamptz END,
    muted_by = %(muted_by)s::text
WHERE fingerprint = %(fingerprint)s

-- name: retry_error_group
-- One batch, in id order from after_id: the jobs retried stay in the group (until they
-- succeed), so the next batch starts past them instead of stepping over them again. SKIP
-- LOCKED leaves a job a worker is finishing right now to its worker.
WITH picked AS (
    SELECT id FROM jobs
    WHERE error_group = %(fingerprint)s AND id > %(after_id)s AND state IN ('failed', 'retryable')
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
),
changed AS (
    UPDATE jobs AS j
    SET state = 'available', run_at = %(now)s,
        max_attempts = GREATEST(max_attempts, attempt + 1),
        finished_at = NULL, lease_expires_at = NULL
    FROM picked
    WHERE j.id = picked.id
    RETURNING j.id, j.queue
)
-- One notification per queue, not per job (the subquery runs once).
SELECT id, (SELECT COUNT(pg_notify('jobdeck_jobs', q))
            FROM (SELECT DISTINCT queue AS q FROM changed) AS queues) AS notified
FROM changed

-- name: compact_error_groups
-- Rows older than before fold into one row per (bucket, group, task) in shard 0, in one
-- atomic statement; a shard-0 row on a bucket's start is such a row already and stays, so a
-- second run folds nothing. Safe to replay.
WITH folded AS (
    DELETE FROM error_group_minute
    WHERE minute < %(before)s
      AND NOT (shard = 0 AND extract(epoch FROM minute)::bigint %% %(bucket)s = 0)
    RETURNING minute, fingerprint, task, failures
),
summed AS (
    INSERT INTO error_group_minute AS g (minute, fingerprint, task, shard, failures)
    SELECT to_timestamp(extract(epoch FROM minute)::bigint
                        - extract(epoch FROM minute)::bigint %% %(bucket)s),
           fingerprint, task, 0, SUM(failures)
    FROM folded
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (minute, fingerprint, task, shard) DO UPDATE
    SET failures = g.failures + excluded.failures
)
SELECT COUNT(*) AS n FROM folded

-- name: where_error_group
-- A task-list filter (store/listing.py): the jobs whose latest failure is in the group.
error_group = %(error_group)s
