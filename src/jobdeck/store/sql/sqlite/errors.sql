-- Error groups (migration 0011): written in complete_jobs' transaction, read by the Failures
-- view, /api/errors, `jobdeck errors`, /metrics and the new-group alert rule.

-- name: add_error_group
-- Written once, when first seen: the sample is the group's first failure.
INSERT INTO error_groups (fingerprint, exception, title, frame, task, first_seen, sample_job_id,
                          sample_error, sample_traceback)
VALUES (:fingerprint, :exception, :title, :frame, :task, :first_seen, :sample_job_id,
        :sample_error, :sample_traceback)
ON CONFLICT (fingerprint) DO NOTHING

-- name: add_error_group_failures
INSERT INTO error_group_minute (minute, fingerprint, task, shard, failures)
VALUES (:minute, :fingerprint, :task, :shard, :failures)
ON CONFLICT (minute, fingerprint, task, shard) DO UPDATE
SET failures = failures + excluded.failures

-- name: list_error_groups
-- The period's minutes of the rollup, read along its primary key (which leads with the
-- minute), then one primary-key lookup per group found. The unary + keeps SQLite off the
-- (fingerprint, minute) index, which saves the GROUP BY's sort but costs a lookup per row:
-- 21 ms against 14 ms for a day of 20 groups failing every minute.
WITH counted AS (
    SELECT fingerprint, SUM(failures) AS failures, COUNT(DISTINCT task) AS tasks,
           MAX(minute) AS last_minute
    FROM error_group_minute
    WHERE minute >= :since AND minute < :until
    GROUP BY +fingerprint
)
SELECT g.*, c.failures, c.tasks, c.last_minute
FROM counted AS c JOIN error_groups AS g ON g.fingerprint = c.fingerprint
WHERE :include_muted OR g.muted_at IS NULL
ORDER BY c.failures DESC, g.fingerprint
LIMIT :limit

-- name: get_error_group
SELECT g.*, COALESCE(SUM(m.failures), 0) AS failures, COUNT(DISTINCT m.task) AS tasks,
       MAX(m.minute) AS last_minute
FROM error_groups AS g LEFT JOIN error_group_minute AS m ON m.fingerprint = g.fingerprint
WHERE g.fingerprint = :fingerprint
GROUP BY g.fingerprint

-- name: error_group_series
-- Along the primary key too, as list_error_groups (the groups asked for are most of the
-- period's rows anyway: the view asks for its busiest).
SELECT fingerprint, (minute / :bucket) * :bucket AS bucket, SUM(failures) AS failures
FROM error_group_minute
WHERE +fingerprint IN (SELECT value FROM json_each(:fingerprints))
  AND minute >= :since AND minute < :until
GROUP BY +fingerprint, bucket
ORDER BY fingerprint, bucket

-- name: set_error_group_muted
UPDATE error_groups
SET muted_at = CASE WHEN :muted_by IS NULL THEN NULL ELSE :now END, muted_by = :muted_by
WHERE fingerprint = :fingerprint

-- name: retry_error_group
-- One batch, in id order from after_id: the jobs retried stay in the group (until they
-- succeed), so the next batch starts past them instead of stepping over them again.
UPDATE jobs
SET state = 'available', run_at = :now, max_attempts = MAX(max_attempts, attempt + 1),
    finished_at = NULL, lease_expires_at = NULL
WHERE id IN (
    SELECT id FROM jobs
    WHERE error_group = :fingerprint AND id > :after_id AND state IN ('failed', 'retryable')
    ORDER BY id LIMIT :limit
)
RETURNING id

-- name: compact_error_groups_fold
-- Rows older than :before fold into one row per (bucket, group, task) in shard 0; a shard-0
-- row on a bucket's start is such a row already and stays, so a second run folds nothing.
INSERT INTO error_group_minute (minute, fingerprint, task, shard, failures)
SELECT minute - minute % :bucket AS start, fingerprint, task, 0, SUM(failures)
FROM error_group_minute
WHERE minute < :before
  AND NOT (shard = 0 AND minute % :bucket = 0)
GROUP BY start, fingerprint, task
ON CONFLICT (minute, fingerprint, task, shard) DO UPDATE
SET failures = failures + excluded.failures

-- name: compact_error_groups_delete
DELETE FROM error_group_minute
WHERE minute < :before
  AND NOT (shard = 0 AND minute % :bucket = 0)

-- name: where_error_group
-- A task-list filter (store/listing.py): the jobs whose latest failure is in the group.
error_group = :error_group
