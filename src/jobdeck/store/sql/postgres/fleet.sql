-- The fleet's orders: paused queues and drain requests, written by operators, read by workers
-- at heartbeat time; and each one announced on jobdeck_orders as it commits (payload: the
-- worker it is for, '' for all), so that workers listening read them at once.

-- name: pause_queue
-- A queue already paused keeps its first pause (who and why): nothing comes back.
WITH paused AS (
    INSERT INTO queue_pauses (queue, paused_at, paused_by, reason)
    VALUES (%(queue)s, %(paused_at)s, %(paused_by)s, %(reason)s)
    ON CONFLICT (queue) DO NOTHING
    RETURNING queue
),
announced AS (SELECT COUNT(pg_notify('jobdeck_orders', '')) AS n FROM paused)
SELECT queue FROM paused CROSS JOIN announced

-- name: resume_queue
WITH resumed AS (DELETE FROM queue_pauses WHERE queue = %(queue)s RETURNING queue),
announced AS (SELECT COUNT(pg_notify('jobdeck_orders', '')) AS n FROM resumed)
SELECT queue FROM resumed CROSS JOIN announced

-- name: list_paused_queues
SELECT queue, paused_at, paused_by, reason FROM queue_pauses ORDER BY queue

-- name: request_worker_stop
WITH asked AS (
    UPDATE workers SET stop_requested_at = COALESCE(stop_requested_at, %(now)s)
    WHERE id = %(worker_id)s AND state <> 'stopped'
    RETURNING id
),
announced AS (SELECT COUNT(pg_notify('jobdeck_orders', id)) AS n FROM asked)
SELECT id FROM asked CROSS JOIN announced

-- name: worker_orders
-- One read per heartbeat: a row per paused queue, one with stop when this worker was asked to
-- drain and stop, and one per running job of its that an operator cancelled (through the
-- partial index of running jobs by worker: a handful of rows at most).
SELECT queue, false AS stop, NULL::bigint AS job_id, NULL::integer AS attempt,
       NULL::text AS cancelled_by
FROM queue_pauses
UNION ALL
SELECT NULL, true, NULL, NULL, NULL FROM workers WHERE id = %(worker_id)s AND stop_requested_at IS NOT NULL
UNION ALL
SELECT NULL, false, id, attempt, cancelled_by FROM jobs
WHERE worker_id = %(worker_id)s AND state = 'running' AND cancel_requested_at IS NOT NULL

-- name: count_open_by_queue
-- Every unfinished job once, through the (state, id) index: one pass over the backlog for all
-- queues, where a count per queue and state would walk each state's rows once per queue.
SELECT queue, state, COUNT(*) AS n FROM jobs
WHERE state IN ('scheduled', 'available', 'retryable', 'running')
GROUP BY queue, state
