-- Users, server-side sessions, API tokens, login throttling and the operator audit trail.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login_at TEXT
);

-- The cookie carries a random id; only its SHA-256 is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE login_attempts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TEXT NOT NULL,
    locked_until TEXT
);

CREATE TABLE audit_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    action_type TEXT NOT NULL,
    target TEXT,
    ip TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_actions_time ON audit_actions (timestamp);
CREATE INDEX audit_actions_type_time ON audit_actions (action_type, timestamp);

-- One row per operator action plus one per finished attempt: job executions are not written
-- twice, and the product guide's own query over audit_log works as written.
CREATE VIEW audit_log AS
SELECT 'op-' || id AS id, timestamp, actor, role, action_type, target, ip, details
FROM audit_actions
UNION ALL
SELECT 'run-' || a.id AS id, a.finished_at AS timestamp, 'system' AS actor, 'service' AS role,
       'background_job_execution' AS action_type, 'job ' || a.job_id AS target, NULL AS ip,
       json_object(
           'job_id', a.job_id,
           'job_name', j.task,
           'attempt', a.attempt,
           'status', CASE a.status WHEN 'succeeded' THEN 'success' ELSE 'failed' END,
           'execution_time_ms', a.duration_ms,
           'results', CASE WHEN a.status = 'succeeded' THEN json(j.result) END,
           'errors', CASE WHEN a.status = 'failed' THEN json_object(
               'error_message', a.error, 'error_details', a.traceback) END
       ) AS details
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at IS NOT NULL;
