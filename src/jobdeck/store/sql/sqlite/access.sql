-- name: create_user
INSERT INTO users (email, name, role, active, password_hash, created_at, updated_at)
VALUES (:email, :name, :role, 1, :password_hash, :now, :now)
ON CONFLICT (email) DO NOTHING
RETURNING *

-- name: get_user
SELECT * FROM users WHERE id = :id

-- name: find_user
SELECT * FROM users WHERE email = :email

-- name: list_users
SELECT * FROM users ORDER BY email

-- name: update_user
UPDATE users
SET name = COALESCE(:name, name), role = COALESCE(:role, role),
    active = COALESCE(:active, active), password_hash = COALESCE(:password_hash, password_hash),
    updated_at = :now
WHERE id = :id
RETURNING *

-- name: record_login
UPDATE users SET last_login_at = :now WHERE id = :id

-- name: create_session
INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip,
                      user_agent)
VALUES (:id_hash, :user_id, :csrf_token, :now, :now, :expires_at, :ip, :user_agent)

-- name: get_session
SELECT * FROM sessions WHERE id_hash = :id_hash

-- name: touch_session
UPDATE sessions SET last_seen_at = :now WHERE id_hash = :id_hash

-- name: delete_session
DELETE FROM sessions WHERE id_hash = :id_hash

-- name: delete_user_sessions
DELETE FROM sessions WHERE user_id = :user_id

-- name: delete_expired_sessions
DELETE FROM sessions WHERE expires_at < :now

-- name: create_token
INSERT INTO api_tokens (name, token_hash, prefix, role, created_by, created_at)
VALUES (:name, :token_hash, :prefix, :role, :created_by, :now)
RETURNING *

-- name: find_token
SELECT * FROM api_tokens WHERE token_hash = :token_hash

-- name: list_tokens
SELECT * FROM api_tokens ORDER BY id DESC

-- name: revoke_token
UPDATE api_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL RETURNING id

-- name: touch_token
UPDATE api_tokens SET last_used_at = :now WHERE id = :id

-- name: get_login_attempts
SELECT key, failures, window_started_at, locked_until FROM login_attempts WHERE key = :key

-- name: save_login_attempts
INSERT INTO login_attempts (key, failures, window_started_at, locked_until)
VALUES (:key, :failures, :window_started_at, :locked_until)
ON CONFLICT (key) DO UPDATE
SET failures = excluded.failures, window_started_at = excluded.window_started_at,
    locked_until = excluded.locked_until

-- name: clear_login_attempts
DELETE FROM login_attempts WHERE key = :key

-- name: record_action
INSERT INTO audit_actions (timestamp, actor, role, action_type, target, ip, details)
VALUES (:timestamp, :actor, :role, :action_type, :target, :ip, :details)
RETURNING id

-- name: list_audit
SELECT id, timestamp, actor, role, action_type, target, ip, details
FROM audit_log
WHERE {where}
ORDER BY timestamp DESC, id DESC
LIMIT :limit

-- name: audit_where_actor
actor = :actor

-- name: audit_where_action
action_type = :action_type

-- name: audit_where_target
target = :target

-- name: audit_where_from
timestamp >= :date_from

-- name: audit_where_to
timestamp <= :date_to

-- name: audit_where_operator_only
action_type <> 'background_job_execution'

-- name: audit_where_executions_only
action_type = 'background_job_execution'

-- name: audit_where_before
(timestamp < :before_ts OR (timestamp = :before_ts AND id < :before_id))

-- name: prune_audit
DELETE FROM audit_actions WHERE timestamp < :before
