-- Error groups: the same tables, columns and indexes as the SQLite 0011 (see it for why).
ALTER TABLE jobs ADD COLUMN error_group text;
ALTER TABLE attempts ADD COLUMN error_group text;
CREATE INDEX jobs_error_group ON jobs (error_group, id) WHERE error_group IS NOT NULL;

CREATE TABLE error_groups (
    fingerprint text PRIMARY KEY,
    exception text NOT NULL,
    title text NOT NULL,
    frame text NOT NULL,
    task text NOT NULL,
    first_seen timestamptz NOT NULL,
    sample_job_id bigint NOT NULL,
    sample_error text NOT NULL,
    sample_traceback text,
    muted_at timestamptz,
    muted_by text
);

CREATE TABLE error_group_minute (
    minute timestamptz NOT NULL,
    fingerprint text NOT NULL,
    task text NOT NULL,
    shard integer NOT NULL,
    failures bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, fingerprint, task, shard)
);
CREATE INDEX error_group_minute_fingerprint ON error_group_minute (fingerprint, minute);
