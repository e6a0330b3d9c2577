-- The guide's failure entry has error_message and error_details at the top of `details`;
-- they were only nested under `errors` (kept too, for queries written against it).
DROP VIEW audit_log;
CREATE VIEW audit_log AS
SELECT id, timestamp, actor, role, action_type, target, ip, details
FROM (
    SELECT ('op-' || id) COLLATE "C" AS id, timestamp, actor, role, action_type, target, ip,
           details
    FROM audit_actions
    UNION ALL
    SELECT ('run-' || a.id) COLLATE "C", a.finished_at, 'system'::text, 'service'::text,
           'background_job_execution'::text, ('job ' || a.job_id)::text, NULL::text,
           (SELECT jsonb_strip_nulls(jsonb_build_object(
                       'error_message', CASE WHEN a.status = 'failed' THEN a.error END,
                       'error_details', CASE WHEN a.status = 'failed' THEN a.traceback END))
                   || jsonb_build_object(
                       'job_id', a.job_id,
                       'job_name', j.task,
                       'attempt', a.attempt,
                       'status', CASE a.status WHEN 'succeeded' THEN 'success' ELSE 'failed' END,
                       'execution_time_ms', a.duration_ms,
                       'results', CASE WHEN a.status = 'succeeded' THEN j.result END,
                       'errors', CASE WHEN a.status = 'failed' THEN jsonb_build_object(
                           'error_message', a.error, 'error_details', a.traceback) END)
            FROM jobs AS j WHERE j.id = a.job_id)
    FROM attempts AS a
) AS entries
WHERE timestamp IS NOT NULL;
