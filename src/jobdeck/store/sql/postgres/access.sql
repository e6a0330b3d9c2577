-- name: create_user
INSERT INTO users (email, name, role, active, password_hash, created_at, updated_at)
VALUES (%(email)s, %(name)s, %(role)s, true, %(password_hash)s, %(now)s, %(now)s)
ON CONFLICT (email) DO NOTHING
RETURNING *

-- name: get_user
SELECT * FROM users WHERE id = %(id)s

-- name: find_user
SELECT * FROM users WHERE email = %(email)s

-- name: list_users
-- Byte order, as SQLite sorts, whatever the database's collation.
SELECT * FROM users ORDER BY email COLLATE "C"

-- name: update_user
-- A None leaves the column as it is.
UPDATE users
SET name = COALESCE(%(name)s, name), role = COALESCE(%(role)s, role),
    active = COALESCE(%(active)s, active),
    password_hash = COALESCE(%(password_hash)s, password_hash),
    updated_at = %(now)s
WHERE id = %(id)s
RETURNING *

-- name: record_login
UPDATE users SET last_login_at = %(now)s WHERE id = %(id)s

-- name: create_session
-- Expired sessions go as a new one comes: the table holds live sessions only, with no sweeper.
WITH expired AS (
    DELETE FROM sessions WHERE expires_at < %(now)s
)
INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip,
                      user_agent)
VALUES (%(id_hash)s, %(user_id)s, %(csrf_token)s, %(now)s, %(now)s, %(expires_at)s, %(ip)s,
        %(user_agent)s)

-- name: get_session
SELECT * FROM sessions WHERE id_hash = %(id_hash)s

-- name: touch_session
UPDATE sessions SET last_seen_at = %(now)s WHERE id_hash = %(id_hash)s

-- name: delete_session
DELETE FROM sessions WHERE id_hash = %(id_hash)s

-- name: delete_user_sessions
DELETE FROM sessions WHERE user_id = %(user_id)s

-- name: create_token
INSERT INTO api_tokens (name, token_hash, prefix, role, created_by, created_at)
VALUES (%(name)s, %(token_hash)s, %(prefix)s, %(role)s, %(created_by)s, %(now)s)
RETURNING *

-- name: find_token
SELECT * FROM api_tokens WHERE token_hash = %(token_hash)s

-- name: list_tokens
SELECT * FROM api_tokens ORDER BY id DESC

-- name: revoke_token
UPDATE api_tokens SET revoked_at = %(now)s WHERE id = %(id)s AND revoked_at IS NULL RETURNING id

-- name: touch_token
UPDATE api_tokens SET last_used_at = %(now)s WHERE id = %(id)s

-- name: get_login_attempts
SELECT key, failures, window_started_at, locked_until FROM login_attempts WHERE key = %(key)s

-- name: save_login_attempts
INSERT INTO login_attempts (key, failures, window_started_at, locked_until)
VALUES (%(key)s, %(failures)s, %(window_started_at)s, %(locked_until)s)
ON CONFLICT (key) DO UPDATE
SET failures = excluded.failures, window_started_at = excluded.window_started_at,
    locked_until = excluded.locked_until

-- name: clear_login_attempts
DELETE FROM login_attempts WHERE key = %(key)s

-- name: record_action
INSERT INTO audit_actions (timestamp, actor, role, action_type, target, ip, details)
VALUES (%(timestamp)s, %(actor)s, %(role)s, %(action_type)s, %(target)s, %(ip)s,
        %(details)s::jsonb)
RETURNING id

-- name: list_audit
-- The filters reach both branches of audit_log (see migration 0003): a page is a Merge Append
-- of two backward index scans cut off at the limit, however many attempts there are.
SELECT id, timestamp, actor, role, action_type, target, ip, details
FROM audit_log
WHERE {where}
ORDER BY timestamp DESC, id DESC
LIMIT %(limit)s

-- name: audit_where_actor
actor = %(actor)s

-- name: audit_where_action
action_type = %(action_type)s

-- name: audit_where_target
target = %(target)s

-- name: audit_where_from
timestamp >= %(date_from)s

-- name: audit_where_to
timestamp <= %(date_to)s

-- name: audit_where_operator_only
action_type <> 'background_job_execution'

-- name: audit_where_executions_only
action_type = 'background_job_execution'

-- name: audit_where_before
-- The keyset cursor, spelt so that `timestamp <= ` bounds the index scans: with SQLite's
-- `a < x OR (a = x AND ...)` alone every page would scan down from the newest row.
timestamp <= %(before_ts)s AND (timestamp < %(before_ts)s OR id < %(before_id)s)

-- name: prune_audit
DELETE FROM audit_actions WHERE timestamp < %(before)s
