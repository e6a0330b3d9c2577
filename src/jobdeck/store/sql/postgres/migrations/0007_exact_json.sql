-- Arguments and results are kept as the text the application serialised: `json`, not `jsonb`.
-- jsonb stores numbers as numeric and re-renders them, so 1e16 came back as 10000000000000000
-- (an int in Python), -0.0 as 0, and object keys in its own order. json keeps the text as
-- written (and checks that it is JSON); nothing compares or indexes these columns. The
-- audit_log view reads jobs.result and is recreated as it was (its `details` stay jsonb, so
-- `details->>'job_name'` and the guides' queries work unchanged). Rows written before this
-- migration keep the text jsonb made of them. On a large jobs table the ALTER rewrites it:
-- plan a maintenance window (or prune finished jobs first).
DROP VIEW audit_log;
-- One ALTER per table: one rewrite of it.
ALTER TABLE jobs
    ALTER COLUMN args DROP DEFAULT,
    ALTER COLUMN args TYPE json USING args::text::json,
    ALTER COLUMN args SET DEFAULT '{}',
    ALTER COLUMN result TYPE json USING result::text::json;
ALTER TABLE schedules
    ALTER COLUMN args DROP DEFAULT,
    ALTER COLUMN args TYPE json USING args::text::json,
    ALTER COLUMN args SET DEFAULT '{}';
CREATE VIEW audit_log AS
SELECT id, timestamp, actor, role, action_type, target, ip, details
FROM (
    SELECT ('op-' || id) COLLATE "C" AS id, timestamp, actor, role, action_type, target, ip,
           details
    FROM audit_actions
    UNION ALL
    SELECT ('run-' || a.id) COLLATE "C", a.finished_at, 'system'::text, 'service'::text,
           'background_job_execution'::text, ('job ' || a.job_id)::text, NULL::text,
           (SELECT jsonb_build_object(
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
