-- name: configure_session
-- Queue statements are short: JIT compiling them costs more than it saves. psycopg prepares
-- statements it sees often; a generic plan guesses the size of the batch arrays and picked
-- plans three times slower for complete_jobs, so every execution is planned for its values.
SET jit = off; SET plan_cache_mode = force_custom_plan

-- name: lock_migrations
-- Held until the migrating transaction ends, so two processes never migrate at once.
SELECT pg_advisory_xact_lock(7524578734631692651)

-- name: migrations_table_exists
SELECT to_regclass('jobdeck_migrations') IS NOT NULL AS present

-- name: schema_version
SELECT COALESCE(MAX(version), 0) AS version FROM jobdeck_migrations

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS jobdeck_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL
)

-- name: record_migration
INSERT INTO jobdeck_migrations (version, name, applied_at) VALUES (%(version)s, %(name)s, %(now)s)

-- name: insert_jobs
-- One statement for the whole batch; arrays travel in binary (the b placeholders), which
-- psycopg builds ten times faster than array literals. Ids are drawn in the materialized
-- `input` CTE, so each input row (by ordinality) knows its id whether or not its insert hit a
-- unique key; RETURNING order is never relied on. Rows are inserted in unique-key order so
-- that two batches sharing keys wait on each other in the same order and cannot deadlock.
-- `existing_id` is read with the statement's snapshot: it finds keys held before the statement
-- began; a key taken by a concurrent insert after that is looked up again by the caller
-- (find_by_dedupe_keys). The NOTIFY goes out when the transaction commits, not before.
WITH input AS MATERIALIZED (
    SELECT nextval('jobs_id_seq') AS id, t.*
    FROM unnest(%(task)b::text[], %(queue)b::text[], %(args)b::json[], %(labels)b::jsonb[],
                %(priority)b::integer[], %(state)b::text[], %(max_attempts)b::integer[],
                %(timeout)b::double precision[], %(run_at)b::timestamptz[],
                %(unique_key)b::text[], %(unique_while)b::text[], %(schedule)b::text[],
                %(tick_at)b::timestamptz[], %(trigger)b::text[], %(triggered_by)b::text[])
         WITH ORDINALITY AS t(task, queue, args, labels, priority, state, max_attempts, timeout,
                              run_at, unique_key, unique_while, schedule, tick_at, trigger,
                              triggered_by, ord)
    ORDER BY t.ord
),
created AS (
    INSERT INTO jobs (id, task, queue, args, labels, priority, state, max_attempts, timeout,
                      enqueued_at, run_at, unique_key, dedupe_key, unique_while,
                      schedule, tick_at, trigger, triggered_by)
    SELECT id, task, queue, args, labels, priority, state, max_attempts, timeout,
           %(now)s, run_at, unique_key, unique_key, unique_while,
           schedule, tick_at, trigger, triggered_by
    FROM input
    ORDER BY unique_key NULLS FIRST, ord
    ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
    RETURNING id, queue
),
notified AS (
    SELECT COUNT(pg_notify('jobdeck_jobs', q.queue)) AS n
    FROM (SELECT DISTINCT queue FROM created) AS q
)
SELECT input.id, created.id IS NOT NULL AS created,
       -- A subquery, so that it is one jobs_dedupe probe per conflicting row, never a join
       -- that reads the whole index.
       CASE WHEN created.id IS NULL AND input.unique_key IS NOT NULL THEN
           (SELECT e.id FROM jobs AS e WHERE e.dedupe_key = input.unique_key)
       END AS existing_id
FROM input
LEFT JOIN created ON created.id = input.id
CROSS JOIN notified
ORDER BY input.ord

-- name: draw_job_ids
SELECT nextval('jobs_id_seq') AS id FROM generate_series(1, %(n)s)

-- name: copy_jobs
-- id, enqueued_at, then _JOB_COLUMNS of postgres.py in their order.
COPY jobs (id, enqueued_at, task, queue, args, labels, priority, state, max_attempts, timeout,
           run_at, unique_key, unique_while, schedule, tick_at, trigger, triggered_by) FROM STDIN

-- name: notify_queues
SELECT COUNT(pg_notify('jobdeck_jobs', q)) AS n FROM unnest(%(queues)b::text[]) AS q

-- name: insert_job
-- One job: the same answer as insert_jobs (id, created, existing_id) from a plain INSERT, which
-- plans in a fraction of the batch statement's time (an enqueue per request is the common case).
WITH created AS (
    INSERT INTO jobs (task, queue, args, labels, priority, state, max_attempts, timeout,
                      enqueued_at, run_at, unique_key, dedupe_key, unique_while,
                      schedule, tick_at, trigger, triggered_by)
    VALUES (%(task)s::text, %(queue)s::text, %(args)s::json, %(labels)s::jsonb,
            %(priority)s::integer, %(state)s::text, %(max_attempts)s::integer,
            %(timeout)s::double precision, %(now)s::timestamptz, %(run_at)s::timestamptz,
            %(unique_key)s::text, %(unique_key)s::text, %(unique_while)s::text,
            %(schedule)s::text, %(tick_at)s::timestamptz, %(trigger)s::text,
            %(triggered_by)s::text)
    ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
    RETURNING id, queue
),
notified AS (
    SELECT COUNT(pg_notify('jobdeck_jobs', queue)) AS n FROM created
)
SELECT (SELECT id FROM created) AS id, notified.n > 0 AS created,
       CASE WHEN notified.n = 0 AND %(unique_key)s::text IS NOT NULL THEN
           (SELECT e.id FROM jobs AS e WHERE e.dedupe_key = %(unique_key)s::text)
       END AS existing_id
FROM notified

-- name: find_by_dedupe_keys
SELECT dedupe_key, id FROM jobs WHERE dedupe_key = ANY(%(keys)b::text[])

-- name: claim_jobs
-- Per queue, an ordered scan of jobs_fetch that stops after `limit` rows: `queue = ANY(...)`
-- would read every due job of those queues and sort them, on every claim. SKIP LOCKED makes
-- concurrent claimers take different rows instead of queueing on the same ones; with several
-- queues, rows locked but not picked are released when the statement commits.
-- The time is the server's as the statement runs (`now` is NULL unless the store was given a
-- clock, as tests do): a claim held up on its way, or sent by a host whose clock is off, gets
-- a whole lease from the moment it is written, never one that is already out.
-- A claim does not wait for its WAL flush: if the server crashes before the flush, the claim
-- is undone and the job is simply due again (a completion, which does wait, flushes it first).
WITH async_commit AS MATERIALIZED (
    SELECT set_config('synchronous_commit', 'off', true) AS setting,
           COALESCE(%(now)s::timestamptz, clock_timestamp()) AS now
),
picked AS (
    SELECT c.id
    FROM unnest(%(queues)b::text[]) AS q(name)
    CROSS JOIN LATERAL (
        SELECT id, priority, run_at FROM jobs
        WHERE queue = q.name AND state IN ('scheduled', 'available', 'retryable')
          AND run_at <= (SELECT now FROM async_commit)
        ORDER BY priority DESC, run_at, id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ) AS c
    ORDER BY c.priority DESC, c.run_at, c.id
    LIMIT %(limit)s
),
claimed AS (
    UPDATE jobs AS j
    SET state = 'running', attempt = j.attempt + 1, worker_id = %(worker_id)s,
        lease_expires_at = a.now + make_interval(secs => %(lease_seconds)s),
        started_at = a.now, finished_at = NULL, duration_ms = NULL,
        dedupe_key = CASE WHEN j.unique_while = 'pending' THEN NULL ELSE j.dedupe_key END
    FROM picked, async_commit AS a
    WHERE j.id = picked.id
    RETURNING j.id, j.task, j.queue, j.args::text AS args,
              CASE WHEN %(labels)s THEN j.labels::text ELSE '{}' END AS labels,
              j.attempt, j.max_attempts, j.timeout, j.priority, j.run_at, j.started_at
)
SELECT * FROM claimed

-- name: complete_jobs
-- One UPDATE checks the fence (attempt, running, worker) on each row as it locks it. Nothing
-- that locks this worker's running rows ever waits for a lock while holding one (the heartbeat
-- and the rescuer skip locked rows; a hand-back takes only jobs that are still running), so the
-- order the rows are locked in cannot deadlock, and no separate FOR UPDATE pass is needed.
-- Without `with_children`, a job that some job was enqueued after is left running: the caller
-- finishes it again with it, in a transaction that settles the children (job dependencies).
-- A flag set by an enqueue that committed while this statement waited for the row is seen:
-- the row is checked again in its newest version before it is changed.
WITH outcome AS (
    SELECT *
    FROM unnest(%(job_id)b::bigint[], %(attempt)b::integer[], %(status)b::text[],
                %(next_state)b::text[], %(finished_at)b::timestamptz[], %(duration_ms)b::bigint[],
                %(run_at)b::timestamptz[], %(result)b::json[], %(summary)b::text[],
                %(error)b::text[], %(traceback)b::text[], %(wait_ms)b::bigint[],
                %(wait_bucket)b::smallint[], %(duration_bucket)b::smallint[],
                %(error_group)b::text[], %(group_exception)b::text[], %(group_title)b::text[],
                %(group_frame)b::text[])
         AS o(job_id, attempt, status, next_state, finished_at, duration_ms, run_at, result,
              summary, error, traceback, wait_ms, wait_bucket, duration_bucket,
              error_group, group_exception, group_title, group_frame)
),
finished AS (
    UPDATE jobs AS j
    SET state = o.next_state, finished_at = o.finished_at, duration_ms = o.duration_ms,
        lease_expires_at = NULL, run_at = COALESCE(o.run_at, j.run_at),
        result = o.result, summary = o.summary, error = o.error, error_group = o.error_group,
        dedupe_key = CASE WHEN o.next_state IN ('succeeded', 'failed', 'cancelled') THEN NULL
                          ELSE j.dedupe_key END
    FROM outcome AS o
    WHERE j.id = o.job_id AND j.attempt = o.attempt AND j.state = 'running'
      AND j.worker_id = %(worker_id)s AND (%(with_children)s OR NOT j.has_children)
    RETURNING j.id, j.has_children, o.next_state, j.task, j.attempt, j.started_at, o.status,
              o.finished_at, o.duration_ms,
              o.error, o.traceback, o.wait_ms, o.wait_bucket, o.duration_bucket,
              o.error_group, o.group_exception, o.group_title, o.group_frame
),
attempts_written AS (
    INSERT INTO attempts (job_id, attempt, status, worker_id, started_at, finished_at,
                          duration_ms, error, traceback, error_group)
    SELECT id, attempt, status, %(worker_id)s, started_at, finished_at, duration_ms, error,
           traceback, error_group
    FROM finished
),
-- Error groups (0011): a group's row is written once, when first seen (DO NOTHING takes no
-- row lock, so workers failing in the same group never wait on each other); its failures
-- count in this worker's shard of the per-minute rollup. Both read only the failed rows.
groups_seen AS (
    INSERT INTO error_groups (fingerprint, exception, title, frame, task, first_seen,
                              sample_job_id, sample_error, sample_traceback)
    SELECT DISTINCT ON (error_group) error_group, group_exception, group_title, group_frame,
           task, finished_at, id, error, traceback
    FROM finished
    WHERE error_group IS NOT NULL
    ORDER BY error_group, finished_at, id
    ON CONFLICT (fingerprint) DO NOTHING
),
groups_counted AS (
    INSERT INTO error_group_minute AS g (minute, fingerprint, task, shard, failures)
    SELECT date_trunc('minute', finished_at, 'UTC'), error_group, task, %(shard)s, COUNT(*)
    FROM finished
    WHERE error_group IS NOT NULL
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (minute, fingerprint, task, shard) DO UPDATE
    SET failures = g.failures + excluded.failures
),
rolled_up AS (
    INSERT INTO stats_minute AS s (minute, task, shard, succeeded, failed, duration_ms)
    SELECT date_trunc('minute', finished_at, 'UTC'), task, %(shard)s,
           COUNT(*) FILTER (WHERE status = 'succeeded'),
           COUNT(*) FILTER (WHERE status <> 'succeeded'),
           SUM(duration_ms)
    FROM finished
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (minute, task, shard) DO UPDATE
    SET succeeded = s.succeeded + excluded.succeeded,
        failed = s.failed + excluded.failed,
        duration_ms = s.duration_ms + excluded.duration_ms
),
latency_rolled_up AS (
    -- The histograms (migration 0012), per 15-minute slot; buckets come found by the caller.
    INSERT INTO stats_latency AS h (slot, task, shard, kind, bucket, n, total_ms)
    SELECT date_bin('15 minutes', finished_at, TIMESTAMPTZ '1970-01-01 00:00:00+00'), task,
           %(shard)s, kind, bucket, COUNT(*), SUM(ms)
    FROM (
        SELECT finished_at, task, 'duration' AS kind, duration_bucket AS bucket,
               duration_ms AS ms
        FROM finished
        UNION ALL
        SELECT finished_at, task, 'wait', wait_bucket, wait_ms
        FROM finished
        WHERE wait_ms IS NOT NULL
    ) AS observed
    GROUP BY 1, 2, 4, 5
    ORDER BY 1, 2, 4, 5
    ON CONFLICT (slot, task, shard, kind, bucket) DO UPDATE
    SET n = h.n + excluded.n, total_ms = h.total_ms + excluded.total_ms
)
SELECT id, has_children, next_state AS state FROM finished

-- name: hand_back_jobs
WITH handed_in AS (
    SELECT * FROM unnest(%(job_id)b::bigint[], %(attempt)b::integer[]) AS h(job_id, attempt)
),
locked AS (
    SELECT j.id FROM jobs AS j
    JOIN handed_in AS h ON h.job_id = j.id AND h.attempt = j.attempt
    WHERE j.state = 'running' AND j.worker_id = %(worker_id)s
    ORDER BY j.id
    FOR UPDATE OF j
),
handed AS (
    UPDATE jobs AS j
    SET state = 'available', attempt = j.attempt - 1, worker_id = NULL, lease_expires_at = NULL,
        started_at = NULL
    FROM locked
    WHERE j.id = locked.id
    RETURNING j.id, j.attempt + 1 AS attempt, j.queue
),
notified AS (
    SELECT COUNT(pg_notify('jobdeck_jobs', q.queue)) AS n
    FROM (SELECT DISTINCT queue FROM handed) AS q
)
SELECT (SELECT COUNT(*) FROM handed) AS handed, n FROM notified

-- name: renew_leases
-- SKIP LOCKED: a row locked now is being finished or rescued, and needs no longer lease.
-- Losing this commit in a crash costs nothing (the lease is renewed again in seconds), so it
-- does not wait for its WAL flush. The lease runs from the server's time, as at claim.
WITH async_commit AS MATERIALIZED (
    SELECT set_config('synchronous_commit', 'off', true) AS setting,
           COALESCE(%(now)s::timestamptz, clock_timestamp())
           + make_interval(secs => %(lease_seconds)s) AS until
)
UPDATE jobs SET lease_expires_at = a.until
FROM async_commit AS a
WHERE id IN (
    SELECT id FROM jobs WHERE worker_id = %(worker_id)s AND state = 'running'
    FOR UPDATE SKIP LOCKED
)
AND worker_id = %(worker_id)s AND state = 'running'

-- name: rescue_expired
-- SKIP LOCKED: a row locked now is being finished by its worker; if its lease is still out
-- when the lock goes, the next sweep takes it. Leases are compared with the server's time,
-- the clock they were written with, never with the rescuing host's. A rescued job keeps its
-- run_at (and priority): it was due before the jobs enqueued since, so it runs before them.
WITH clock AS MATERIALIZED (
    SELECT COALESCE(%(now)s::timestamptz, clock_timestamp()) AS now
),
expired AS (
    SELECT id FROM jobs
    WHERE state = 'running' AND lease_expires_at < (SELECT now FROM clock)
      AND worker_id IS DISTINCT FROM %(skip_worker)s::text
    FOR UPDATE SKIP LOCKED
),
rescued AS (
    UPDATE jobs AS j
    -- A job an operator cancelled ends cancelled: its worker is gone, nothing retries it.
    SET state = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
                     WHEN j.attempt >= j.max_attempts THEN 'failed' ELSE 'retryable' END,
        finished_at = c.now, lease_expires_at = NULL,
        duration_ms = ROUND(EXTRACT(EPOCH FROM (c.now - j.started_at)) * 1000)::bigint,
        error = CASE WHEN j.cancel_requested_at IS NOT NULL
                     THEN 'cancelled by ' || COALESCE(j.cancelled_by, '?') || ' (its worker '
                          || COALESCE(j.worker_id, '?') || ' was lost before it stopped)'
                     ELSE 'worker ' || COALESCE(j.worker_id, '?')
                          || ' was lost: its lease expired at '
                          || to_char(j.lease_expires_at AT TIME ZONE 'UTC',
                                     'YYYY-MM-DD HH24:MI:SS.US') END,
        dedupe_key = CASE WHEN j.attempt >= j.max_attempts OR j.cancel_requested_at IS NOT NULL
                          THEN NULL ELSE j.dedupe_key END
    FROM expired, clock AS c
    WHERE j.id = expired.id
    RETURNING j.id, j.task, j.attempt, j.state, j.worker_id, j.started_at, j.finished_at,
              j.duration_ms, j.error, j.has_children
),
attempts_failed AS (
    INSERT INTO attempts AS a (job_id, attempt, status, worker_id, started_at, finished_at,
                               duration_ms, error)
    SELECT id, attempt, CASE WHEN state = 'cancelled' THEN 'cancelled' ELSE 'failed' END,
           worker_id, started_at, finished_at, duration_ms, error
    FROM rescued
    ORDER BY id
    -- A job claimed by a version before 0005 has its running attempt's row already.
    ON CONFLICT (job_id, attempt) DO UPDATE
    SET status = excluded.status, finished_at = excluded.finished_at,
        duration_ms = excluded.duration_ms, error = excluded.error
),
rolled_up AS (
    INSERT INTO stats_minute AS s (minute, task, shard, succeeded, failed, duration_ms)
    SELECT date_trunc('minute', finished_at, 'UTC'), task, 0, 0, COUNT(*),
           COALESCE(SUM(duration_ms), 0)
    FROM rescued
    GROUP BY 1, task
    ORDER BY 1, task
    ON CONFLICT (minute, task, shard) DO UPDATE
    SET failed = s.failed + excluded.failed,
        duration_ms = s.duration_ms + excluded.duration_ms
),
notified AS (
    SELECT COUNT(pg_notify('jobdeck_jobs', '')) AS n
    FROM (SELECT 1 FROM rescued WHERE state = 'retryable' LIMIT 1) AS any_retryable
)
SELECT id, task, attempt, state, worker_id, has_children FROM rescued CROSS JOIN notified

-- name: notify_jobs
SELECT pg_notify('jobdeck_jobs', '')

-- name: listen_jobs
LISTEN jobdeck_jobs

-- name: listen_orders
LISTEN jobdeck_orders

-- name: notify_orders
SELECT pg_notify('jobdeck_orders', %(worker_id)s)

-- name: register_worker
INSERT INTO workers (id, host, pid, queues, concurrency, version, started_at, last_heartbeat,
                     state)
VALUES (%(id)s, %(host)s, %(pid)s, %(queues)s::jsonb, %(concurrency)s, %(version)s,
        %(started_at)s, %(last_heartbeat)s, %(state)s)
ON CONFLICT (id) DO UPDATE SET last_heartbeat = excluded.last_heartbeat, state = excluded.state

-- name: heartbeat_worker
-- The server's time, returned so that the worker can measure its own clock's offset from it.
UPDATE workers
SET last_heartbeat = COALESCE(%(now)s::timestamptz, clock_timestamp()), state = %(state)s,
    clock_offset_ms = COALESCE(%(clock_offset_ms)s::bigint, clock_offset_ms)
WHERE id = %(worker_id)s
RETURNING last_heartbeat

-- name: deregister_worker
WITH clock AS MATERIALIZED (SELECT COALESCE(%(now)s::timestamptz, clock_timestamp()) AS now)
UPDATE workers SET state = 'stopped', stopped_at = c.now, last_heartbeat = c.now
FROM clock AS c
WHERE id = %(worker_id)s

-- name: list_workers
SELECT id, host, pid, queues, concurrency, version, started_at, last_heartbeat, state,
       clock_offset_ms, stop_requested_at
FROM workers
WHERE %(since)s::timestamptz IS NULL OR last_heartbeat >= %(since)s::timestamptz
ORDER BY started_at DESC

-- name: get_job
SELECT * FROM jobs WHERE id = %(id)s

-- name: get_attempts
-- An attempt's row is written when it ends; the one running now is read off the job itself.
SELECT job_id, attempt, status, worker_id, started_at, finished_at, duration_ms, error, traceback
FROM attempts WHERE job_id = %(job_id)s
UNION ALL
SELECT id, attempt, 'running', worker_id, started_at, NULL, NULL, NULL, NULL
FROM jobs AS j
WHERE id = %(job_id)s AND state = 'running'
  AND NOT EXISTS (SELECT 1 FROM attempts AS a WHERE a.job_id = j.id AND a.attempt = j.attempt)
ORDER BY attempt

-- name: list_jobs
SELECT * FROM jobs WHERE {where} ORDER BY id DESC LIMIT %(limit)s

-- name: list_jobs_ascending
-- Paging to newer jobs: the `limit` oldest after the cursor, reversed by the caller.
SELECT * FROM jobs WHERE {where} ORDER BY id ASC LIMIT %(limit)s

-- name: count_jobs
SELECT COUNT(*) AS n FROM jobs WHERE {where}

-- name: where_state
state = %(state)s

-- name: where_task
task = %(task)s

-- name: where_min_id
id >= %(min_id)s

-- name: where_max_id
id <= %(max_id)s

-- name: job_id_bounds
SELECT (SELECT MIN(id) FROM jobs) AS low, (SELECT MAX(id) FROM jobs) AS high

-- name: job_at_or_after
SELECT id, enqueued_at FROM jobs WHERE id >= %(id)s ORDER BY id LIMIT 1

-- name: where_states
state = ANY(%(states)b::text[])

-- name: where_tasks
task = ANY(%(tasks)b::text[])

-- name: where_queue
queue = %(queue)s

-- name: where_schedule
schedule = %(schedule)s

-- name: where_enqueued_from
enqueued_at >= %(enqueued_from)s

-- name: where_enqueued_to
enqueued_at <= %(enqueued_to)s

-- name: where_before_id
id < %(before_id)s

-- name: where_after_id
id > %(after_id)s

-- name: count_by_state
SELECT state, COUNT(*) AS n FROM jobs GROUP BY state

-- name: task_names
-- A skip scan over jobs_task_id: one index probe per distinct task, not a pass over every job.
WITH RECURSIVE names AS (
    (SELECT task FROM jobs ORDER BY task LIMIT 1)
    UNION ALL
    SELECT (SELECT j.task FROM jobs AS j WHERE j.task > names.task ORDER BY j.task LIMIT 1)
    FROM names
    WHERE names.task IS NOT NULL
)
SELECT task FROM names WHERE task IS NOT NULL

-- name: stats_series
SELECT (FLOOR(EXTRACT(EPOCH FROM minute) / %(bucket)s) * %(bucket)s)::bigint AS bucket,
       SUM(succeeded)::bigint AS succeeded, SUM(failed)::bigint AS failed,
       SUM(duration_ms)::bigint AS duration_ms
FROM stats_minute
WHERE minute >= %(since)s AND minute < %(until)s
GROUP BY 1 ORDER BY 1

-- name: stats_by_task
SELECT task, SUM(succeeded)::bigint AS succeeded, SUM(failed)::bigint AS failed,
       SUM(duration_ms)::bigint AS duration_ms
FROM stats_minute
WHERE minute >= %(since)s AND minute < %(until)s
GROUP BY task ORDER BY SUM(succeeded) + SUM(failed) DESC, task

-- name: latency_series
SELECT (FLOOR(EXTRACT(EPOCH FROM slot) / %(bucket)s) * %(bucket)s)::bigint AS start,
       kind, bucket, SUM(n)::bigint AS count, SUM(total_ms)::bigint AS total_ms
FROM stats_latency
WHERE slot >= %(since)s AND slot < %(until)s
GROUP BY 1, kind, bucket

-- name: latency_by_task
SELECT task, kind, bucket, SUM(n)::bigint AS count, SUM(total_ms)::bigint AS total_ms
FROM stats_latency
WHERE slot >= %(since)s AND slot < %(until)s
GROUP BY task, kind, bucket

-- name: retry_job
WITH changed AS (
    UPDATE jobs
    SET state = 'available', run_at = %(now)s, max_attempts = GREATEST(max_attempts, attempt + 1),
        finished_at = NULL, lease_expires_at = NULL, cancel_requested_at = NULL,
        cancelled_by = NULL
    WHERE id = %(id)s AND state IN ('failed', 'cancelled', 'retryable')
    RETURNING *
)
SELECT changed.*, pg_notify('jobdeck_jobs', changed.queue)::text AS notified FROM changed

-- name: cancel_job
-- A pending job ends now; a running one is marked, and its worker stops it when it reads the
-- mark: at once, as it hears of it on jobdeck_orders when this commits, or at its next
-- heartbeat (a job already marked is left as the first cancel wrote it).
WITH cancelled AS (
    UPDATE jobs
    SET state = CASE WHEN state = 'running' THEN state ELSE 'cancelled' END,
        finished_at = CASE WHEN state = 'running' THEN finished_at ELSE %(now)s END,
        dedupe_key = CASE WHEN state = 'running' THEN dedupe_key END,
        cancel_requested_at = %(now)s, cancelled_by = %(cancelled_by)s
    WHERE id = %(id)s AND (state IN ('waiting', 'scheduled', 'available', 'retryable')
                           OR (state = 'running' AND cancel_requested_at IS NULL))
    RETURNING *
),
announced AS (
    SELECT COUNT(pg_notify('jobdeck_orders', worker_id)) AS n
    FROM cancelled WHERE state = 'running'
)
SELECT cancelled.* FROM cancelled CROSS JOIN announced

-- name: prune_finished
-- SKIP LOCKED: a job an operator is retrying right now is left for the next sweep.
WITH doomed AS (
    SELECT id FROM jobs
    WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_at < %(before)s
    ORDER BY finished_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
),
attempts_gone AS (
    DELETE FROM attempts WHERE job_id IN (SELECT id FROM doomed)
),
progress_gone AS (
    DELETE FROM job_progress WHERE job_id IN (SELECT id FROM doomed)
),
log_lines_gone AS (
    DELETE FROM job_logs WHERE job_id IN (SELECT id FROM doomed)
),
-- Finished jobs: their children were settled when they ended; the links go with them.
links_gone AS (
    DELETE FROM job_dependencies WHERE child_id IN (SELECT id FROM doomed)
),
child_links_gone AS (
    DELETE FROM job_dependencies WHERE parent_id IN (SELECT id FROM doomed)
),
gone AS (
    DELETE FROM jobs WHERE id IN (SELECT id FROM doomed) RETURNING id
)
SELECT COUNT(*) AS n FROM gone

-- name: compact_stats
-- Minute rows older than `before` fold into one row per (hour, task) in shard 0, in one
-- atomic statement. A shard-0 row on the hour is such a row already (or a minute row that
-- would fold into itself) and stays, so a second run folds nothing. Safe to replay.
WITH folded AS (
    DELETE FROM stats_minute
    WHERE minute < %(before)s
      AND NOT (shard = 0 AND minute = date_trunc('hour', minute, 'UTC'))
    RETURNING minute, task, succeeded, failed, duration_ms
),
hourly AS (
    INSERT INTO stats_minute AS s (minute, task, shard, succeeded, failed, duration_ms)
    SELECT date_trunc('hour', minute, 'UTC'), task, 0,
           SUM(succeeded), SUM(failed), SUM(duration_ms)
    FROM folded
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (minute, task, shard) DO UPDATE
    SET succeeded = s.succeeded + excluded.succeeded,
        failed = s.failed + excluded.failed,
        duration_ms = s.duration_ms + excluded.duration_ms
)
SELECT COUNT(*) AS n FROM folded

-- name: compact_latency
-- Histogram rows older than `before` fold the same way, into one row per (`size`-second
-- slot, task, kind, bucket) in shard 0.
WITH folded AS (
    DELETE FROM stats_latency
    WHERE slot < %(before)s
      AND NOT (shard = 0 AND slot = date_bin(make_interval(secs => %(size)s), slot,
                                             TIMESTAMPTZ '1970-01-01 00:00:00+00'))
    RETURNING slot, task, kind, bucket, n, total_ms
),
coarser AS (
    INSERT INTO stats_latency AS h (slot, task, shard, kind, bucket, n, total_ms)
    SELECT date_bin(make_interval(secs => %(size)s), slot, TIMESTAMPTZ '1970-01-01 00:00:00+00'),
           task, 0, kind, bucket, SUM(n), SUM(total_ms)
    FROM folded
    GROUP BY 1, 2, 4, 5
    ORDER BY 1, 2, 4, 5
    ON CONFLICT (slot, task, shard, kind, bucket) DO UPDATE
    SET n = h.n + excluded.n, total_ms = h.total_ms + excluded.total_ms
)
SELECT COUNT(*) AS n FROM folded

-- name: where_text
-- Search without an index: bounded by the caller to the newest jobs (JobFilter.newest).
-- The text the search index holds (search.sql), fields a line apart; one lower() and one
-- strpos per row cost a fifth less than one per field.
strpos(lower(args::text || E'\n' || labels::text || E'\n' || COALESCE(summary, '') || E'\n'
             || COALESCE(error, '')), %(text)s) > 0

-- name: where_arg_0
-- The argument at the dotted path, as text, is the value.
(args #>> string_to_array(%(arg_path_0)s, '.')) = %(arg_value_0)s

-- name: where_label_0
(labels #>> string_to_array(%(label_path_0)s, '.')) = %(label_value_0)s

-- name: where_arg_1
-- The argument at the dotted path, as text, is the value.
(args #>> string_to_array(%(arg_path_1)s, '.')) = %(arg_value_1)s

-- name: where_label_1
(labels #>> string_to_array(%(label_path_1)s, '.')) = %(label_value_1)s

-- name: where_arg_2
-- The argument at the dotted path, as text, is the value.
(args #>> string_to_array(%(arg_path_2)s, '.')) = %(arg_value_2)s

-- name: where_label_2
(labels #>> string_to_array(%(label_path_2)s, '.')) = %(label_value_2)s

-- name: count_capped
SELECT COUNT(*) AS n FROM (SELECT 1 FROM jobs WHERE {where} LIMIT %(cap)s) AS capped

-- name: count_recent_by_state
SELECT state, COUNT(*) AS n
FROM (SELECT state FROM jobs WHERE {where} ORDER BY id DESC LIMIT %(cap)s) AS recent
GROUP BY state

-- name: bulk_retry
-- One batch of a bulk retry; the state guard is retry_job's. SKIP LOCKED: a job a worker or
-- another operator holds right now is passed over, not waited for.
WITH picked AS (
    SELECT id FROM jobs WHERE {where} ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
UPDATE jobs
SET state = 'available', run_at = %(now)s,
    max_attempts = GREATEST(max_attempts, attempt + 1), finished_at = NULL,
    lease_expires_at = NULL
FROM picked
WHERE jobs.id = picked.id AND jobs.state IN ('failed', 'cancelled', 'retryable')
RETURNING jobs.id

-- name: bulk_cancel
-- cancel_job's for a batch: pending jobs end now, running ones are marked for their workers to
-- stop (announced on jobdeck_orders, one notification per worker, as cancel_job does). A
-- running job marked already is not picked, so that a batch of them cannot look like the end
-- of the work.
WITH picked AS (
    SELECT id FROM jobs
    WHERE {where} AND (state <> 'running' OR cancel_requested_at IS NULL)
    ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
),
cancelled AS (
    UPDATE jobs
    SET state = CASE WHEN jobs.state = 'running' THEN jobs.state ELSE 'cancelled' END,
        finished_at = CASE WHEN jobs.state = 'running' THEN jobs.finished_at ELSE %(now)s END,
        dedupe_key = CASE WHEN jobs.state = 'running' THEN jobs.dedupe_key END,
        cancel_requested_at = %(now)s, cancelled_by = %(cancelled_by)s
    FROM picked
    WHERE jobs.id = picked.id
      AND (jobs.state IN ('waiting', 'scheduled', 'available', 'retryable')
           OR (jobs.state = 'running' AND jobs.cancel_requested_at IS NULL))
    RETURNING jobs.id, jobs.state, jobs.has_children, jobs.worker_id
),
announced AS (
    SELECT COUNT(pg_notify('jobdeck_orders', worker_id)) AS n
    FROM (SELECT DISTINCT worker_id FROM cancelled WHERE state = 'running') AS marked
)
SELECT id, state, has_children FROM cancelled CROSS JOIN announced

-- name: bulk_delete
-- The links go in a statement after this one: the children still waiting on an unfinished
-- job deleted here are cancelled first (see store/dependencies.py).
WITH picked AS (
    SELECT id FROM jobs WHERE {where} AND state <> 'running'
    ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
),
attempts_gone AS (
    DELETE FROM attempts WHERE job_id IN (SELECT id FROM picked)
)
DELETE FROM jobs WHERE id IN (SELECT id FROM picked) RETURNING id, state, has_children

-- name: where_ids
id = ANY(%(ids)b::bigint[])
-- name: limits_now
SELECT COALESCE(%(now)s::timestamptz, clock_timestamp()) AS now

-- name: running_by_limit
-- What the limits count: running jobs, never more than the workers' slots. Read after the
-- claim holds its keys' locks, in a statement of its own, so it sees every claim that held
-- them before.
SELECT queue, task, labels ->> 'concurrency_key' AS ckey, COUNT(*)::int AS n
FROM jobs
WHERE state = 'running'
GROUP BY queue, task, ckey

-- name: due_in_queue_limited
-- claim_jobs' per-queue scan for a limited claim, with the task and key each job's limits
-- depend on, and without the tasks already at their limit (they would hide the jobs behind).
SELECT id, priority, run_at, queue, task, labels ->> 'concurrency_key' AS ckey
FROM jobs
WHERE queue = %(queue)s AND state IN ('scheduled', 'available', 'retryable')
  AND run_at <= %(now)s AND task <> ALL(%(full_tasks)s::text[])
ORDER BY priority DESC, run_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED

-- name: lock_limit
-- Held to the end of the claim's transaction: claimers of one limit take turns, and each
-- counts the running jobs only once the claimer before it has committed.
SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 7524))

-- name: rate_slots_of
SELECT key, next_free_at FROM rate_slots WHERE key = ANY(%(keys)s::text[])

-- name: all_rate_slots
SELECT key, next_free_at FROM rate_slots

-- name: move_rate_slot
INSERT INTO rate_slots (key, next_free_at) VALUES (%(key)s, %(next_free_at)s)
ON CONFLICT (key) DO UPDATE SET next_free_at = excluded.next_free_at

-- name: hold_until
-- A job over its rate limit becomes due when its slot opens: no claim looks at it before.
-- It is scheduled until then (waiting for a time, as the Queues page and the drawer say), so
-- the queue's latency, read off its oldest available job, never comes out negative.
UPDATE jobs SET run_at = %(run_at)s, state = 'scheduled'
WHERE id = %(id)s AND state IN ('scheduled', 'available', 'retryable')

-- name: claim_admitted
-- The jobs a limited claim admitted, already locked by its due_in_queue_limited.
UPDATE jobs AS j
SET state = 'running', attempt = j.attempt + 1, worker_id = %(worker_id)s,
    lease_expires_at = a.now + make_interval(secs => %(lease_seconds)s),
    started_at = a.now, finished_at = NULL, duration_ms = NULL,
    dedupe_key = CASE WHEN j.unique_while = 'pending' THEN NULL ELSE j.dedupe_key END
FROM (SELECT COALESCE(%(now)s::timestamptz, clock_timestamp()) AS now) AS a
WHERE j.id = ANY(%(ids)s::bigint[])
RETURNING j.id, j.task, j.queue, j.args::text AS args,
          CASE WHEN %(labels)s THEN j.labels::text ELSE '{}' END AS labels,
          j.attempt, j.max_attempts, j.timeout, j.priority, j.run_at, j.started_at

-- name: get_progress
SELECT job_id, attempt, done, total, note, updated_at FROM job_progress
WHERE job_id = ANY(%(ids)s::bigint[])
ORDER BY job_id, attempt

-- name: get_log_lines
SELECT job_id, attempt, at, level, message FROM job_logs WHERE job_id = %(job_id)s ORDER BY id

-- name: write_reports
-- One round trip per flush: the batch's progress (the last report per attempt; the caller
-- sends one) and its log lines.
WITH progress AS (
    INSERT INTO job_progress AS p (job_id, attempt, done, total, note, updated_at)
    SELECT * FROM unnest(%(p_job_id)s::bigint[], %(p_attempt)s::integer[],
                         %(p_done)s::double precision[], %(p_total)s::double precision[],
                         %(p_note)s::text[], %(p_updated_at)s::timestamptz[])
    ON CONFLICT (job_id, attempt) DO UPDATE
    SET done = excluded.done, total = excluded.total, note = excluded.note,
        updated_at = excluded.updated_at
    RETURNING 1
),
lines AS (
    INSERT INTO job_logs (job_id, attempt, at, level, message)
    SELECT job_id, attempt, at, level, message
    FROM unnest(%(l_job_id)s::bigint[], %(l_attempt)s::integer[],
                         %(l_at)s::timestamptz[], %(l_level)s::text[], %(l_message)s::text[])
    WITH ORDINALITY AS l(job_id, attempt, at, level, message, n)
    ORDER BY n
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM progress) + (SELECT COUNT(*) FROM lines) AS n

-- name: mark_parents
-- A new job's parents: flagged, so that their end settles it, and their states read. Locked in
-- id order; a parent a worker is finishing is waited for, then read in its finished state.
WITH locked AS (
    SELECT id FROM jobs WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR UPDATE
)
UPDATE jobs AS j SET has_children = true
FROM locked
WHERE j.id = locked.id
RETURNING j.id, j.state

-- name: link_parents
INSERT INTO job_dependencies (child_id, parent_id)
SELECT %(child_id)s, unnest(%(ids)s::bigint[])

-- name: lock_children
-- Before settling: the waiting children of these parents, locked in id order (see
-- postgres/dependencies.py for why this is a statement of its own).
SELECT id FROM jobs
WHERE id IN (SELECT child_id FROM job_dependencies WHERE parent_id = ANY(%(ids)s::bigint[]))
  AND state = 'waiting'
ORDER BY id
FOR UPDATE

-- name: release_children
-- Waiting children of these succeeded parents, once every parent of theirs succeeded, are due
-- from now on (or at their own run_at, when later); their queues' workers are woken.
WITH clock AS MATERIALIZED (
    SELECT COALESCE(%(now)s::timestamptz, clock_timestamp()) AS now
),
released AS (
    UPDATE jobs AS c
    SET state = CASE WHEN c.run_at > k.now THEN 'scheduled' ELSE 'available' END,
        run_at = GREATEST(c.run_at, k.now)
    FROM clock AS k
    WHERE c.id IN (SELECT child_id FROM job_dependencies
                   WHERE parent_id = ANY(%(ids)s::bigint[]))
      AND c.state = 'waiting'
      AND NOT EXISTS (SELECT 1 FROM job_dependencies AS d JOIN jobs AS p ON p.id = d.parent_id
                      WHERE d.child_id = c.id AND p.state <> 'succeeded')
    RETURNING c.id, c.queue
),
notified AS (
    SELECT COUNT(pg_notify('jobdeck_jobs', q.queue)) AS n
    FROM (SELECT DISTINCT queue FROM released) AS q
)
SELECT released.id FROM released CROSS JOIN notified

-- name: cancel_children
-- Waiting children of these parents end cancelled, told which parent (the lowest id among
-- those given) and why: reasons pair with parent_ids by position.
WITH clock AS MATERIALIZED (
    SELECT COALESCE(%(now)s::timestamptz, clock_timestamp()) AS now
),
given AS (
    SELECT * FROM unnest(%(parent_ids)s::bigint[], %(reasons)s::text[]) AS g(parent_id, reason)
)
UPDATE jobs AS c
SET state = 'cancelled', finished_at = k.now, dedupe_key = NULL,
    error = (SELECT 'parent job #' || d.parent_id || ' ' || g.reason
             FROM job_dependencies AS d JOIN given AS g ON g.parent_id = d.parent_id
             WHERE d.child_id = c.id
             ORDER BY d.parent_id LIMIT 1)
FROM clock AS k
WHERE c.id IN (SELECT d.child_id FROM job_dependencies AS d
               WHERE d.parent_id = ANY(%(parent_ids)s::bigint[]))
  AND c.state = 'waiting'
RETURNING c.id, c.has_children

-- name: job_links
SELECT 'parent' AS relation, j.id AS job_id, j.task, j.state
FROM job_dependencies AS d JOIN jobs AS j ON j.id = d.parent_id
WHERE d.child_id = %(job_id)s
UNION ALL
SELECT 'child', j.id, j.task, j.state
FROM job_dependencies AS d JOIN jobs AS j ON j.id = d.child_id
WHERE d.parent_id = %(job_id)s

-- name: delete_dependencies_of
-- With deleted jobs go the links they are either end of (one lookup per index).
WITH as_child AS (
    DELETE FROM job_dependencies WHERE child_id = ANY(%(ids)s::bigint[])
)
DELETE FROM job_dependencies WHERE parent_id = ANY(%(ids)s::bigint[])
