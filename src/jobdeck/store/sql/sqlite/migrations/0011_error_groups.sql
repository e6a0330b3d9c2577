-- Error groups: failures that share a fingerprint (exception type, normalised message, the
-- innermost frame of the task's own code; see jobdeck/fingerprints.py), computed by the worker
-- and written in the completer's batched write.
-- * jobs.error_group: the group of the job's latest failure (NULL once it succeeds), so that a
--   group opens to its jobs and "Retry all in this group" finds them on an index. The index is
--   partial: a job that succeeds (almost every job) writes no entry into it.
-- * attempts.error_group: each failed attempt's group, for the record (no index).
-- * error_groups: one row per fingerprint, written once when first seen (its sample is that
--   first failure) and then only by Mute; a batch never updates it, so no row is hot.
-- * error_group_minute: failures per (minute, fingerprint, task, shard), the rollup the
--   Failures view, its sparklines, /metrics and the alert rule read: a period's groups cost
--   its minutes' rows, not a scan of its attempts. Each worker writes its own shard.
ALTER TABLE jobs ADD COLUMN error_group TEXT;
ALTER TABLE attempts ADD COLUMN error_group TEXT;
CREATE INDEX jobs_error_group ON jobs (error_group, id) WHERE error_group IS NOT NULL;

CREATE TABLE error_groups (
    fingerprint TEXT PRIMARY KEY,
    exception TEXT NOT NULL,
    title TEXT NOT NULL,
    frame TEXT NOT NULL,
    task TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    sample_job_id INTEGER NOT NULL,
    sample_error TEXT NOT NULL,
    sample_traceback TEXT,
    muted_at TEXT,
    muted_by TEXT
) WITHOUT ROWID;

CREATE TABLE error_group_minute (
    minute INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    task TEXT NOT NULL,
    shard INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, fingerprint, task, shard)
) WITHOUT ROWID;
CREATE INDEX error_group_minute_fingerprint ON error_group_minute (fingerprint, minute);
