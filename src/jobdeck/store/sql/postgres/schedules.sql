-- name: sync_schedules
-- One statement for every declared schedule; rows are written in name order so that
-- schedulers starting together lock them in the same order. Names no longer declared become
-- inactive, keeping their history.
WITH declared AS (
    SELECT *
    FROM unnest(%(name)b::text[], %(task)b::text[], %(cron)b::text[],
                %(every_seconds)b::double precision[], %(timezone)b::text[], %(title)b::text[],
                %(description)b::text[], %(expected_max_age_seconds)b::double precision[],
                %(alert_after_seconds)b::double precision[], %(catch_up)b::text[],
                %(args)b::json[], %(queue)b::text[],
                %(run_now_cooldown_seconds)b::double precision[])
         AS d(name, task, cron, every_seconds, timezone, title, description,
              expected_max_age_seconds, alert_after_seconds, catch_up, args, queue,
              run_now_cooldown_seconds)
),
upserted AS (
    INSERT INTO schedules AS s (name, task, cron, every_seconds, timezone, title, description,
                                expected_max_age_seconds, alert_after_seconds, catch_up, args,
                                queue, run_now_cooldown_seconds, active, created_at,
                                updated_at)
    SELECT name, task, cron, every_seconds, timezone, title, description,
           expected_max_age_seconds, alert_after_seconds, catch_up, args, queue,
           run_now_cooldown_seconds, true, %(now)s, %(now)s
    FROM declared
    ORDER BY name
    ON CONFLICT (name) DO UPDATE
    SET task = excluded.task, cron = excluded.cron, every_seconds = excluded.every_seconds,
        timezone = excluded.timezone, title = excluded.title,
        description = excluded.description,
        expected_max_age_seconds = excluded.expected_max_age_seconds,
        alert_after_seconds = excluded.alert_after_seconds, catch_up = excluded.catch_up,
        args = excluded.args, queue = excluded.queue,
        run_now_cooldown_seconds = excluded.run_now_cooldown_seconds, active = true,
        updated_at = excluded.updated_at
    RETURNING s.name
),
deactivated AS (
    UPDATE schedules SET active = false, updated_at = %(now)s
    WHERE active AND name <> ALL(%(name)b::text[])
    RETURNING name
)
SELECT (SELECT COUNT(*) FROM upserted) AS upserted,
       (SELECT COUNT(*) FROM deactivated) AS deactivated

-- name: list_schedules
-- Each schedule with its latest started job, its last success and its running job, if any.
-- The scheduler reads this on every tick: last_success_at is one backward probe of
-- jobs_schedule_state (schedule, state, finished_at), not a scan of the schedule's history.
SELECT s.*,
       last.id AS last_job_id, last.state AS last_state, last.started_at AS last_started_at,
       last.finished_at AS last_finished_at, last.duration_ms AS last_duration_ms,
       last.summary AS last_summary, last.error AS last_error, last.trigger AS last_trigger,
       (SELECT MAX(j.finished_at) FROM jobs AS j
        WHERE j.schedule = s.name AND j.state = 'succeeded') AS last_success_at,
       running.id AS running_job_id, running.started_at AS running_since,
       CASE WHEN last.state = 'retryable' THEN last.run_at END AS last_retry_at,
       manual.id AS manual_job_id, manual.state AS manual_state,
       manual.finished_at AS manual_finished_at
FROM schedules AS s
LEFT JOIN LATERAL (
    SELECT j.id, j.state, j.started_at, j.finished_at, j.duration_ms, j.summary, j.error,
           j.trigger, j.run_at
    FROM jobs AS j
    WHERE j.schedule = s.name AND j.started_at IS NOT NULL
    ORDER BY j.id DESC
    LIMIT 1
) AS last ON true
LEFT JOIN LATERAL (
    SELECT j.id, j.started_at FROM jobs AS j
    WHERE j.schedule = s.name AND j.state = 'running'
    ORDER BY j.id
    LIMIT 1
) AS running ON true
LEFT JOIN LATERAL (
    SELECT j.id, j.state, j.finished_at FROM jobs AS j
    WHERE j.schedule = s.name AND j.trigger = 'manual'
    ORDER BY j.id DESC
    LIMIT 1
) AS manual ON true
WHERE {where}
-- Byte order, as SQLite sorts, whatever the database's collation.
ORDER BY s.active DESC, s.name COLLATE "C"

-- name: where_schedule_name
s.name = %(name)s

-- name: where_schedule_active
s.active

-- name: lock_manual_runs
-- Run Now's check and insert hold this until their transaction ends, so concurrent requests
-- (any connection, any host) take turns and never both see "no recent run".
SELECT pg_advisory_xact_lock(hashtextextended('jobdeck:run-now:' || %(schedule)s::text, 0))

-- name: latest_manual_run
-- The schedule's newest manual run (if any), with the time its cooldown is measured at: the
-- server's as of now, the lock held, unless the store has a clock of its own (tests).
SELECT COALESCE(%(now)s::timestamptz, clock_timestamp()) AS now,
       j.id, j.state, j.finished_at
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT id, state, finished_at FROM jobs
    WHERE schedule = %(schedule)s::text AND trigger = 'manual'
    ORDER BY id DESC LIMIT 1
) AS j ON true

-- name: enqueue_tick
-- The tick's claim and its job in one statement. The primary key of schedule_ticks decides
-- the race: the loser's insert does nothing, so it inserts no job and moves no bookmark. The
-- job id is drawn before the claim so the tick row can name its job. A job whose unique key
-- is already held (as of this statement's snapshot) is not inserted: the tick names the
-- holder instead, as insert_jobs would return it. `created` and `existed` both false means
-- the key was taken by a commit after our snapshot; the caller sorts that out in the same
-- transaction (see PostgresStore.enqueue_tick). Zero rows: another scheduler won the tick.
WITH existing AS (
    SELECT id FROM jobs WHERE dedupe_key = %(unique_key)s::text
),
claimed AS (
    INSERT INTO schedule_ticks (schedule, tick_at, job_id, created_at)
    SELECT %(schedule)s::text, %(tick_at)s::timestamptz,
           COALESCE((SELECT id FROM existing), nextval('jobs_id_seq')), %(now)s::timestamptz
    -- A tick already won and committed costs no sequence value; a race still ends at the key.
    WHERE NOT EXISTS (
        SELECT 1 FROM schedule_ticks
        WHERE schedule = %(schedule)s::text AND tick_at = %(tick_at)s::timestamptz
    )
    ON CONFLICT (schedule, tick_at) DO NOTHING
    RETURNING job_id
),
created AS (
    INSERT INTO jobs (id, task, queue, args, labels, priority, state, max_attempts, timeout,
                      enqueued_at, run_at, unique_key, dedupe_key, unique_while,
                      schedule, tick_at, trigger, triggered_by)
    SELECT claimed.job_id, %(task)s::text, %(queue)s::text, %(args)s::json, %(labels)s::jsonb,
           %(priority)s::integer, %(state)s::text, %(max_attempts)s::integer,
           %(timeout)s::double precision, %(now)s::timestamptz, %(run_at)s::timestamptz,
           %(unique_key)s::text, %(unique_key)s::text, %(unique_while)s::text,
           %(job_schedule)s::text, %(job_tick_at)s::timestamptz, %(trigger)s::text,
           %(triggered_by)s::text
    FROM claimed
    WHERE NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
    RETURNING id, queue
),
advanced AS (
    UPDATE schedules SET last_tick_at = %(tick_at)s::timestamptz
    WHERE name = %(schedule)s::text
      AND (last_tick_at IS NULL OR last_tick_at < %(tick_at)s::timestamptz)
      AND EXISTS (SELECT 1 FROM claimed)
),
notified AS (
    SELECT COUNT(pg_notify('jobdeck_jobs', queue)) AS n FROM created
)
SELECT claimed.job_id, EXISTS (SELECT 1 FROM created) AS created,
       EXISTS (SELECT 1 FROM existing) AS existed, notified.n
FROM claimed CROSS JOIN notified

-- name: set_tick_job
UPDATE schedule_ticks SET job_id = %(job_id)s
WHERE schedule = %(schedule)s AND tick_at = %(tick_at)s

-- name: advance_schedule
-- Only forwards: a late scheduler never moves the bookmark back.
UPDATE schedules SET last_tick_at = %(tick_at)s
WHERE name = %(name)s AND (last_tick_at IS NULL OR last_tick_at < %(tick_at)s)

-- name: set_schedule_paused
UPDATE schedules SET paused = %(paused)s, updated_at = %(now)s WHERE name = %(name)s
RETURNING name

-- name: change_alert_state
-- Conditional on the state the caller saw: when schedulers race, the row lock makes the
-- second re-check its condition against the first one's change, so only one of them sees a
-- row come back and sends the alert.
UPDATE schedules SET alert_state = %(to_state)s
WHERE name = %(name)s AND alert_state = ANY(%(from_states)b::text[])
RETURNING name

-- name: record_alert
INSERT INTO alerts (kind, subject, message, details, created_at)
VALUES (%(kind)s, %(subject)s, %(message)s, %(details)s::jsonb, %(now)s)
RETURNING id

-- name: mark_alert_delivered
UPDATE alerts SET delivered_at = %(now)s, delivery_error = %(error)s WHERE id = %(id)s

-- name: list_alerts
SELECT id, kind, subject, message, details, created_at, delivered_at, delivery_error
FROM alerts ORDER BY id DESC LIMIT %(limit)s
