-- The guide's failure entry has error_message and error_details at the top of `details`;
-- they were only nested under `errors` (kept too, for queries written against it).
DROP VIEW audit_log;
CREATE VIEW audit_log AS
SELECT 'op-' || id AS id, timestamp, actor, role, action_type, target, ip, details
FROM audit_actions
UNION ALL
SELECT 'run-' || a.id AS id, a.finished_at AS timestamp, 'system' AS actor, 'service' AS role,
       'background_job_execution' AS action_type, 'job ' || a.job_id AS target, NULL AS ip,
       CASE WHEN a.status = 'failed' THEN json_object(
           'job_id', a.job_id,
           'job_name', j.task,
           'attempt', a.attempt,
           'status', 'failed',
           'execution_time_ms', a.duration_ms,
           'error_message', a.error,
           'error_details', a.traceback,
           'results', NULL,
           'errors', json_object('error_message', a.error, 'error_details', a.traceback)
       ) ELSE json_object(
           'job_id', a.job_id,
           'job_name', j.task,
           'attempt', a.attempt,
           'status', CASE a.status WHEN 'succeeded' THEN 'success' ELSE 'failed' END,
           'execution_time_ms', a.duration_ms,
           'results', CASE WHEN a.status = 'succeeded' THEN json(j.result) END,
           'errors', NULL
       ) END AS details
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at IS NOT NULL;
