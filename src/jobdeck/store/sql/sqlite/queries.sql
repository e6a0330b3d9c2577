-- name: migrations_table_exists
SELECT 1 FROM sqlite_master WHERE name = 'jobdeck_migrations'

-- name: data_version
PRAGMA data_version

-- name: schema_version
SELECT COALESCE(MAX(version), 0) FROM jobdeck_migrations

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS jobdeck_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)

-- name: record_migration
INSERT INTO jobdeck_migrations (version, name, applied_at) VALUES (:version, :name, :now)

-- name: insert_job
INSERT INTO jobs (task, queue, args, labels, priority, state, max_attempts, timeout,
                  enqueued_at, run_at, unique_key, dedupe_key, unique_while,
                  schedule, tick_at, trigger, triggered_by)
VALUES (:task, :queue, :args, :labels, :priority, :state, :max_attempts, :timeout,
        :now, :run_at, :unique_key, :unique_key, :unique_while,
        :schedule, :tick_at, :trigger, :triggered_by)
ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
RETURNING id

-- name: find_by_dedupe_key
SELECT id FROM jobs WHERE dedupe_key = :key

-- name: any_due
SELECT 1 FROM jobs
WHERE state IN ('scheduled', 'available', 'retryable') AND queue = :queue AND run_at <= :now
LIMIT 1

-- name: due_in_queue
-- One queue at a time: with "queue = ?" the partial jobs_fetch index is walked in order and
-- the scan stops at the limit; "queue IN (...)" made SQLite sort every waiting job.
SELECT id, priority, run_at FROM jobs
WHERE state IN ('scheduled', 'available', 'retryable') AND queue = :queue AND run_at <= :now
ORDER BY priority DESC, run_at, id
LIMIT :limit

-- name: claim_jobs
-- :now and :lease_until are read inside this write transaction, after any wait for the lock.
UPDATE jobs
SET state = 'running', attempt = attempt + 1, worker_id = :worker_id,
    lease_expires_at = :lease_until, started_at = :now, finished_at = NULL, duration_ms = NULL,
    dedupe_key = CASE WHEN unique_while = 'pending' THEN NULL ELSE dedupe_key END
WHERE id IN (SELECT value FROM json_each(:ids))
  AND +state IN ('scheduled', 'available', 'retryable')  -- by rowid, not jobs_state_id
RETURNING id, task, queue, args, CASE WHEN :labels THEN labels ELSE '{}' END AS labels,
          attempt, max_attempts, timeout, priority, run_at

-- name: finish_jobs
-- The whole batch in one statement: each element of :outcomes is
-- [job_id, attempt, next_state, finished_at, duration_ms, run_at, result, summary, error,
-- error_group].
-- The fence (attempt, running, worker) decides which rows change; RETURNING names them. The
-- unary + keeps SQLite from driving the join off jobs_state_id (every running job, each
-- joined with the whole batch): the batch drives, one rowid lookup per outcome.
UPDATE jobs
SET state = o.next_state, finished_at = o.finished_at, duration_ms = o.duration_ms,
    lease_expires_at = NULL, run_at = COALESCE(o.run_at, jobs.run_at),
    result = o.result, summary = o.summary, error = o.error, error_group = o.error_group,
    dedupe_key = CASE WHEN o.next_state IN ('succeeded', 'failed', 'cancelled') THEN NULL
                      ELSE jobs.dedupe_key END
FROM (
    SELECT json_extract(value, '$[0]') AS job_id, json_extract(value, '$[1]') AS attempt,
           json_extract(value, '$[2]') AS next_state, json_extract(value, '$[3]') AS finished_at,
           json_extract(value, '$[4]') AS duration_ms, json_extract(value, '$[5]') AS run_at,
           json_extract(value, '$[6]') AS result, json_extract(value, '$[7]') AS summary,
           json_extract(value, '$[8]') AS error, json_extract(value, '$[9]') AS error_group
    FROM json_each(:outcomes)
) AS o
WHERE jobs.id = o.job_id AND jobs.attempt = o.attempt AND +jobs.state = 'running'
  AND +jobs.worker_id = :worker_id
RETURNING id, started_at, state, has_children

-- name: insert_attempt
-- An attempt's row is written once, when it ends.
INSERT INTO attempts (job_id, attempt, status, worker_id, started_at, finished_at, duration_ms,
                      error, traceback, error_group)
VALUES (:job_id, :attempt, :status, :worker_id, :started_at, :finished_at, :duration_ms,
        :error, :traceback, :error_group)

-- name: add_stats
INSERT INTO stats_minute (minute, task, shard, succeeded, failed, duration_ms)
VALUES (:minute, :task, :shard, :succeeded, :failed, :duration_ms)
ON CONFLICT (minute, task, shard) DO UPDATE
SET succeeded = succeeded + excluded.succeeded,
    failed = failed + excluded.failed,
    duration_ms = duration_ms + excluded.duration_ms

-- name: add_latency
INSERT INTO stats_latency (slot, task, shard, kind, bucket, n, total_ms)
VALUES (:slot, :task, :shard, :kind, :bucket, :n, :total_ms)
ON CONFLICT (slot, task, shard, kind, bucket) DO UPDATE
SET n = n + excluded.n, total_ms = total_ms + excluded.total_ms

-- name: hand_back_job
UPDATE jobs
SET state = 'available', attempt = attempt - 1, worker_id = NULL, lease_expires_at = NULL,
    started_at = NULL
WHERE id = :job_id AND attempt = :attempt AND state = 'running' AND worker_id = :worker_id

-- name: renew_leases
UPDATE jobs SET lease_expires_at = :until WHERE worker_id = :worker_id AND state = 'running'

-- name: rescue_expired
-- A rescued job keeps its run_at (and priority): it was due before the jobs enqueued since, so
-- it runs before them.
-- A job an operator cancelled ends cancelled: its worker is gone, nothing retries it.
UPDATE jobs
SET state = CASE WHEN cancel_requested_at IS NOT NULL THEN 'cancelled'
                 WHEN attempt >= max_attempts THEN 'failed' ELSE 'retryable' END,
    finished_at = :now, lease_expires_at = NULL,
    duration_ms = CAST(ROUND((julianday(:now) - julianday(started_at)) * 86400000) AS INTEGER),
    error = CASE WHEN cancel_requested_at IS NOT NULL
                 THEN 'cancelled by ' || COALESCE(cancelled_by, '?') || ' (its worker '
                      || COALESCE(worker_id, '?') || ' was lost before it stopped)'
                 ELSE 'worker ' || COALESCE(worker_id, '?') || ' was lost: its lease expired at '
                      || lease_expires_at END,
    dedupe_key = CASE WHEN attempt >= max_attempts OR cancel_requested_at IS NOT NULL THEN NULL
                      ELSE dedupe_key END
WHERE state = 'running' AND lease_expires_at < :now
  AND worker_id IS NOT :skip_worker
RETURNING id, task, attempt, state, worker_id, started_at, duration_ms, error, has_children

-- name: fail_rescued_attempt
-- A job claimed by a version before 0005 has its running attempt's row already.
INSERT INTO attempts (job_id, attempt, status, worker_id, started_at, finished_at, duration_ms,
                      error)
VALUES (:job_id, :attempt, :status, :worker_id, :started_at, :now, :duration_ms, :error)
ON CONFLICT (job_id, attempt) DO UPDATE
SET status = excluded.status, finished_at = excluded.finished_at,
    duration_ms = excluded.duration_ms, error = excluded.error

-- name: register_worker
INSERT INTO workers (id, host, pid, queues, concurrency, version, started_at, last_heartbeat, state)
VALUES (:id, :host, :pid, :queues, :concurrency, :version, :started_at, :last_heartbeat, :state)
ON CONFLICT (id) DO UPDATE SET last_heartbeat = excluded.last_heartbeat, state = excluded.state

-- name: heartbeat_worker
UPDATE workers
SET last_heartbeat = :now, state = :state,
    clock_offset_ms = COALESCE(:clock_offset_ms, clock_offset_ms)
WHERE id = :worker_id
RETURNING last_heartbeat

-- name: deregister_worker
UPDATE workers SET state = 'stopped', stopped_at = :now, last_heartbeat = :now WHERE id = :worker_id

-- name: list_workers
SELECT id, host, pid, queues, concurrency, version, started_at, last_heartbeat, state,
       clock_offset_ms, stop_requested_at
FROM workers WHERE last_heartbeat >= :since ORDER BY started_at DESC

-- name: get_job
SELECT * FROM jobs WHERE id = :id

-- name: get_attempts
-- An attempt's row is written when it ends; the one running now is read off the job itself.
SELECT job_id, attempt, status, worker_id, started_at, finished_at, duration_ms, error, traceback
FROM attempts WHERE job_id = :job_id
UNION ALL
SELECT id, attempt, 'running', worker_id, started_at, NULL, NULL, NULL, NULL
FROM jobs AS j
WHERE id = :job_id AND state = 'running'
  AND NOT EXISTS (SELECT 1 FROM attempts AS a WHERE a.job_id = j.id AND a.attempt = j.attempt)
ORDER BY attempt

-- name: list_jobs
SELECT * FROM jobs WHERE {where} ORDER BY id DESC LIMIT :limit

-- name: list_jobs_ascending
SELECT * FROM jobs WHERE {where} ORDER BY id ASC LIMIT :limit

-- name: count_jobs
SELECT COUNT(*) AS n FROM jobs WHERE {where}

-- name: where_state
state = :state

-- name: where_task
task = :task

-- name: where_states
state IN (SELECT value FROM json_each(:states))

-- name: where_tasks
task IN (SELECT value FROM json_each(:tasks))

-- name: where_queue
queue = :queue

-- name: where_schedule
schedule = :schedule

-- name: where_enqueued_from
enqueued_at >= :enqueued_from

-- name: where_enqueued_to
enqueued_at <= :enqueued_to

-- name: where_before_id
id < :before_id

-- name: where_after_id
id > :after_id

-- name: where_min_id
id >= :min_id

-- name: where_max_id
id <= :max_id

-- name: job_id_bounds
-- Two subqueries: MIN and MAX together in one SELECT make SQLite scan the table.
SELECT (SELECT MIN(id) FROM jobs) AS low, (SELECT MAX(id) FROM jobs) AS high

-- name: job_at_or_after
SELECT id, enqueued_at FROM jobs WHERE id >= :id ORDER BY id LIMIT 1

-- name: count_by_state
SELECT state, COUNT(*) AS n FROM jobs GROUP BY state

-- name: task_names
SELECT DISTINCT task FROM jobs

-- name: stats_series
SELECT (minute / :bucket) * :bucket AS bucket,
       SUM(succeeded) AS succeeded, SUM(failed) AS failed, SUM(duration_ms) AS duration_ms
FROM stats_minute
WHERE minute >= :since AND minute < :until
GROUP BY bucket ORDER BY bucket

-- name: stats_by_task
SELECT task, SUM(succeeded) AS succeeded, SUM(failed) AS failed,
       SUM(duration_ms) AS duration_ms
FROM stats_minute
WHERE minute >= :since AND minute < :until
GROUP BY task ORDER BY SUM(succeeded) + SUM(failed) DESC, task

-- name: latency_series
SELECT (slot / :bucket) * :bucket AS start, kind, bucket,
       SUM(n) AS count, SUM(total_ms) AS total_ms
FROM stats_latency
WHERE slot >= :since AND slot < :until
GROUP BY start, kind, bucket

-- name: latency_by_task
SELECT task, kind, bucket, SUM(n) AS count, SUM(total_ms) AS total_ms
FROM stats_latency
WHERE slot >= :since AND slot < :until
GROUP BY task, kind, bucket

-- name: retry_job
UPDATE jobs
SET state = 'available', run_at = :now, max_attempts = MAX(max_attempts, attempt + 1),
    finished_at = NULL, lease_expires_at = NULL, cancel_requested_at = NULL, cancelled_by = NULL
WHERE id = :id AND state IN ('failed', 'cancelled', 'retryable')
RETURNING id

-- name: cancel_job
-- A pending job ends now; a running one is marked, and its worker stops it when it reads the
-- mark at its next heartbeat (a job already marked is left as the first cancel wrote it).
UPDATE jobs
SET state = CASE WHEN state = 'running' THEN state ELSE 'cancelled' END,
    finished_at = CASE WHEN state = 'running' THEN finished_at ELSE :now END,
    dedupe_key = CASE WHEN state = 'running' THEN dedupe_key END,
    cancel_requested_at = :now, cancelled_by = :cancelled_by
WHERE id = :id AND (state IN ('waiting', 'scheduled', 'available', 'retryable')
                    OR (state = 'running' AND cancel_requested_at IS NULL))
RETURNING id, state, has_children

-- name: prunable_jobs
SELECT id FROM jobs
WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_at < :before
ORDER BY finished_at LIMIT :limit

-- name: delete_jobs
DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(:ids))

-- name: delete_attempts_of
DELETE FROM attempts WHERE job_id IN (SELECT value FROM json_each(:ids))

-- name: compact_stats_fold
INSERT INTO stats_minute (minute, task, shard, succeeded, failed, duration_ms)
SELECT minute - minute % 3600 AS hour, task, 0,
       SUM(succeeded), SUM(failed), SUM(duration_ms)
FROM stats_minute
WHERE minute < :before
  AND NOT (shard = 0 AND minute % 3600 = 0)
GROUP BY hour, task
ON CONFLICT (minute, task, shard) DO UPDATE
SET succeeded = succeeded + excluded.succeeded,
    failed = failed + excluded.failed,
    duration_ms = duration_ms + excluded.duration_ms

-- name: compact_stats_delete
DELETE FROM stats_minute
WHERE minute < :before
  AND NOT (shard = 0 AND minute % 3600 = 0)

-- name: compact_latency_fold
-- Histogram rows older than :before fold into one row per (:size-second slot, task, kind,
-- bucket) in shard 0; such a row already there stays and takes the others' sums.
INSERT INTO stats_latency (slot, task, shard, kind, bucket, n, total_ms)
SELECT slot - slot % :size AS folded, task, 0, kind, bucket, SUM(n), SUM(total_ms)
FROM stats_latency
WHERE slot < :before
  AND NOT (shard = 0 AND slot % :size = 0)
GROUP BY folded, task, kind, bucket
ON CONFLICT (slot, task, shard, kind, bucket) DO UPDATE
SET n = n + excluded.n, total_ms = total_ms + excluded.total_ms

-- name: compact_latency_delete
DELETE FROM stats_latency
WHERE slot < :before
  AND NOT (shard = 0 AND slot % :size = 0)

-- name: where_text
-- Search without an index: bounded by the caller to the newest jobs (JobFilter.newest).
-- The text the search index holds (search.sql), fields a line apart; one lower() and one
-- instr per row cost a fifth less than one per field.
instr(lower(args || char(10) || labels || char(10) || COALESCE(summary, '') || char(10)
            || COALESCE(error, '')), :text) > 0

-- name: where_arg_0
-- The argument at the dotted path, as text (true/false as JSON writes them), is the value.
CASE json_type(args, '$.' || :arg_path_0)
    WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
    ELSE CAST(json_extract(args, '$.' || :arg_path_0) AS TEXT)
END = :arg_value_0

-- name: where_label_0
CAST(json_extract(labels, '$.' || :label_path_0) AS TEXT) = :label_value_0

-- name: where_arg_1
-- The argument at the dotted path, as text (true/false as JSON writes them), is the value.
CASE json_type(args, '$.' || :arg_path_1)
    WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
    ELSE CAST(json_extract(args, '$.' || :arg_path_1) AS TEXT)
END = :arg_value_1

-- name: where_label_1
CAST(json_extract(labels, '$.' || :label_path_1) AS TEXT) = :label_value_1

-- name: where_arg_2
-- The argument at the dotted path, as text (true/false as JSON writes them), is the value.
CASE json_type(args, '$.' || :arg_path_2)
    WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
    ELSE CAST(json_extract(args, '$.' || :arg_path_2) AS TEXT)
END = :arg_value_2

-- name: where_label_2
CAST(json_extract(labels, '$.' || :label_path_2) AS TEXT) = :label_value_2

-- name: count_capped
SELECT COUNT(*) AS n FROM (SELECT 1 FROM jobs WHERE {where} LIMIT :cap) AS capped

-- name: count_recent_by_state
SELECT state, COUNT(*) AS n
FROM (SELECT state FROM jobs WHERE {where} ORDER BY id DESC LIMIT :cap) AS recent
GROUP BY state

-- name: bulk_retry
-- One batch of a bulk retry; the state guard is retry_job's.
UPDATE jobs
SET state = 'available', run_at = :now, max_attempts = MAX(max_attempts, attempt + 1),
    finished_at = NULL, lease_expires_at = NULL
WHERE id IN (SELECT id FROM jobs WHERE {where} ORDER BY id LIMIT :limit)
  AND state IN ('failed', 'cancelled', 'retryable')
RETURNING id

-- name: bulk_cancel
-- cancel_job's for a batch: pending jobs end now, running ones are marked for their workers to
-- stop at their next heartbeat. A running job marked already is not picked, so that a batch
-- of them cannot look like the end of the work.
UPDATE jobs
SET state = CASE WHEN state = 'running' THEN state ELSE 'cancelled' END,
    finished_at = CASE WHEN state = 'running' THEN finished_at ELSE :now END,
    dedupe_key = CASE WHEN state = 'running' THEN dedupe_key END,
    cancel_requested_at = :now, cancelled_by = :cancelled_by
WHERE id IN (SELECT id FROM jobs WHERE {where} AND (state <> 'running' OR cancel_requested_at IS NULL)
             ORDER BY id LIMIT :limit)
  AND (state IN ('waiting', 'scheduled', 'available', 'retryable')
       OR (state = 'running' AND cancel_requested_at IS NULL))
RETURNING id, state, has_children

-- name: bulk_pick
SELECT id, state, has_children FROM jobs WHERE {where} AND state <> 'running'
ORDER BY id LIMIT :limit

-- name: where_ids
id IN (SELECT value FROM json_each(:ids))
-- name: running_by_limit
-- What the limits count: running jobs, never more than the workers' slots, read through the
-- partial jobs_worker index.
SELECT queue, task, json_extract(labels, '$.concurrency_key') AS ckey, COUNT(*) AS n
FROM jobs INDEXED BY jobs_worker
WHERE state = 'running'
GROUP BY queue, task, ckey

-- name: due_in_queue_limited
-- due_in_queue for a limited claim: with the task and key each job's limits depend on, and
-- without the tasks already at their limit, so those do not hide the jobs queued behind them.
SELECT id, priority, run_at, queue, task, json_extract(labels, '$.concurrency_key') AS ckey
FROM jobs
WHERE state IN ('scheduled', 'available', 'retryable') AND queue = :queue AND run_at <= :now
  AND task NOT IN (SELECT value FROM json_each(:full_tasks))
ORDER BY priority DESC, run_at, id
LIMIT :limit

-- name: rate_slots_of
SELECT key, next_free_at FROM rate_slots WHERE key IN (SELECT value FROM json_each(:keys))

-- name: all_rate_slots
SELECT key, next_free_at FROM rate_slots

-- name: move_rate_slot
INSERT INTO rate_slots (key, next_free_at) VALUES (:key, :next_free_at)
ON CONFLICT (key) DO UPDATE SET next_free_at = excluded.next_free_at

-- name: hold_until
-- A job over its rate limit becomes due when its slot opens: no claim looks at it before.
-- It is scheduled until then (waiting for a time, as the Queues page and the drawer say), so
-- the queue's latency, read off its oldest available job, never comes out negative.
UPDATE jobs SET run_at = :run_at, state = 'scheduled'
WHERE id = :id AND state IN ('scheduled', 'available', 'retryable')

-- name: get_progress
SELECT job_id, attempt, done, total, note, updated_at FROM job_progress
WHERE job_id IN (SELECT value FROM json_each(:ids))
ORDER BY job_id, attempt

-- name: get_log_lines
SELECT job_id, attempt, at, level, message FROM job_logs WHERE job_id = :job_id ORDER BY id

-- name: write_progress
INSERT INTO job_progress (job_id, attempt, done, total, note, updated_at)
VALUES (:job_id, :attempt, :done, :total, :note, :updated_at)
ON CONFLICT (job_id, attempt) DO UPDATE
SET done = excluded.done, total = excluded.total, note = excluded.note,
    updated_at = excluded.updated_at

-- name: append_log_line
INSERT INTO job_logs (job_id, attempt, at, level, message)
VALUES (:job_id, :attempt, :at, :level, :message)

-- name: delete_reports_of
-- With a pruned job go its progress and log lines (two statements: one per table).
DELETE FROM job_progress WHERE job_id IN (SELECT value FROM json_each(:ids))

-- name: delete_log_lines_of
DELETE FROM job_logs WHERE job_id IN (SELECT value FROM json_each(:ids))

-- name: mark_parents
-- A new job's parents: flagged, so that their end settles it, and their states read.
UPDATE jobs SET has_children = 1 WHERE id IN (SELECT value FROM json_each(:ids))
RETURNING id, state

-- name: link_parents
INSERT INTO job_dependencies (child_id, parent_id)
SELECT :child_id, value FROM json_each(:ids)

-- name: release_children
-- Waiting children of these succeeded parents, once every parent of theirs succeeded, are due
-- from now on (or at their own run_at, when later).
UPDATE jobs
SET state = CASE WHEN run_at > :now THEN 'scheduled' ELSE 'available' END,
    run_at = MAX(run_at, :now)
WHERE id IN (SELECT child_id FROM job_dependencies
             WHERE parent_id IN (SELECT value FROM json_each(:ids)))
  AND state = 'waiting'
  AND NOT EXISTS (SELECT 1 FROM job_dependencies AS d JOIN jobs AS p ON p.id = d.parent_id
                  WHERE d.child_id = jobs.id AND p.state <> 'succeeded')
RETURNING id

-- name: cancel_children
-- Waiting children of these parents end cancelled, told which parent (the lowest id among
-- those given) and why: :reasons pairs with :parent_ids by position.
UPDATE jobs
SET state = 'cancelled', finished_at = :now, dedupe_key = NULL,
    error = (SELECT 'parent job #' || d.parent_id || ' ' || r.value
             FROM job_dependencies AS d
             JOIN json_each(:parent_ids) AS p ON p.value = d.parent_id
             JOIN json_each(:reasons) AS r ON r.key = p.key
             WHERE d.child_id = jobs.id
             ORDER BY d.parent_id LIMIT 1)
WHERE id IN (SELECT child_id FROM job_dependencies
             WHERE parent_id IN (SELECT value FROM json_each(:parent_ids)))
  AND state = 'waiting'
RETURNING id, has_children

-- name: job_links
SELECT 'parent' AS relation, j.id AS job_id, j.task, j.state
FROM job_dependencies AS d JOIN jobs AS j ON j.id = d.parent_id
WHERE d.child_id = :job_id
UNION ALL
SELECT 'child', j.id, j.task, j.state
FROM job_dependencies AS d JOIN jobs AS j ON j.id = d.child_id
WHERE d.parent_id = :job_id

-- name: delete_dependencies_of
-- With deleted jobs go the links they are either end of (two lookups, one per index).
DELETE FROM job_dependencies WHERE child_id IN (SELECT value FROM json_each(:ids))

-- name: delete_dependents_of
DELETE FROM job_dependencies WHERE parent_id IN (SELECT value FROM json_each(:ids))
