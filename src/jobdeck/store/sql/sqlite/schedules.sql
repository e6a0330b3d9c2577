-- name: upsert_schedule
INSERT INTO schedules (name, task, cron, every_seconds, timezone, title, description,
                       expected_max_age_seconds, alert_after_seconds, catch_up, args, queue,
                       run_now_cooldown_seconds, active, created_at, updated_at)
VALUES (:name, :task, :cron, :every_seconds, :timezone, :title, :description,
        :expected_max_age_seconds, :alert_after_seconds, :catch_up, :args, :queue,
        :run_now_cooldown_seconds, 1, :now, :now)
ON CONFLICT (name) DO UPDATE
SET task = excluded.task, cron = excluded.cron, every_seconds = excluded.every_seconds,
    timezone = excluded.timezone, title = excluded.title, description = excluded.description,
    expected_max_age_seconds = excluded.expected_max_age_seconds,
    alert_after_seconds = excluded.alert_after_seconds, catch_up = excluded.catch_up,
    args = excluded.args, queue = excluded.queue,
    run_now_cooldown_seconds = excluded.run_now_cooldown_seconds, active = 1,
    updated_at = excluded.updated_at

-- name: deactivate_other_schedules
UPDATE schedules SET active = 0, updated_at = :now
WHERE active = 1 AND name NOT IN (SELECT value FROM json_each(:names))

-- name: list_schedules
SELECT s.*,
       last.id AS last_job_id, last.state AS last_state, last.started_at AS last_started_at,
       last.finished_at AS last_finished_at, last.duration_ms AS last_duration_ms,
       last.summary AS last_summary, last.error AS last_error, last.trigger AS last_trigger,
       (SELECT MAX(finished_at) FROM jobs
        WHERE schedule = s.name AND state = 'succeeded') AS last_success_at,
       EXISTS (SELECT 1 FROM jobs WHERE schedule = s.name AND state = 'running') AS running,
       (SELECT id FROM jobs WHERE schedule = s.name AND state = 'running'
        ORDER BY id LIMIT 1) AS running_job_id,
       (SELECT started_at FROM jobs WHERE schedule = s.name AND state = 'running'
        ORDER BY id LIMIT 1) AS running_since,
       CASE WHEN last.state = 'retryable' THEN last.run_at END AS last_retry_at,
       manual.id AS manual_job_id, manual.state AS manual_state,
       manual.finished_at AS manual_finished_at
FROM schedules s
LEFT JOIN jobs last ON last.id = (
    SELECT id FROM jobs WHERE schedule = s.name AND started_at IS NOT NULL
    ORDER BY id DESC LIMIT 1)
LEFT JOIN jobs manual ON manual.id = (
    SELECT id FROM jobs WHERE schedule = s.name AND trigger = 'manual'
    ORDER BY id DESC LIMIT 1)
WHERE {where}
ORDER BY s.active DESC, s.name

-- name: where_schedule_name
s.name = :name

-- name: where_schedule_active
s.active = 1

-- name: latest_manual_run
-- Read under the write lock by enqueue_manual_run, so no other Run Now can slip in between.
SELECT id, state, finished_at FROM jobs
WHERE schedule = :schedule AND trigger = 'manual'
ORDER BY id DESC LIMIT 1

-- name: claim_tick
INSERT INTO schedule_ticks (schedule, tick_at, job_id, created_at)
VALUES (:schedule, :tick_at, 0, :now)
ON CONFLICT (schedule, tick_at) DO NOTHING
RETURNING schedule

-- name: set_tick_job
UPDATE schedule_ticks SET job_id = :job_id WHERE schedule = :schedule AND tick_at = :tick_at

-- name: advance_schedule
UPDATE schedules SET last_tick_at = :tick_at
WHERE name = :name AND (last_tick_at IS NULL OR last_tick_at < :tick_at)

-- name: set_schedule_paused
UPDATE schedules SET paused = :paused, updated_at = :now WHERE name = :name RETURNING name

-- name: change_alert_state
UPDATE schedules SET alert_state = :to_state
WHERE name = :name AND alert_state IN (SELECT value FROM json_each(:from_states))
RETURNING name

-- name: record_alert
INSERT INTO alerts (kind, subject, message, details, created_at)
VALUES (:kind, :subject, :message, :details, :now)
RETURNING id

-- name: mark_alert_delivered
UPDATE alerts SET delivered_at = :now, delivery_error = :error WHERE id = :id

-- name: list_alerts
SELECT id, kind, subject, message, details, created_at, delivered_at, delivery_error
FROM alerts ORDER BY id DESC LIMIT :limit
