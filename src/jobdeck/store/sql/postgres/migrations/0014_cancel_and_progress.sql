-- Cancelling a running job: the operator's request is stamped on the job, its worker reads it
-- at its next heartbeat (with its other orders) and stops the task. A rescue of a job whose
-- worker is gone ends it cancelled instead of retrying it.
ALTER TABLE jobs ADD COLUMN cancel_requested_at timestamptz;
ALTER TABLE jobs ADD COLUMN cancelled_by text;
-- Progress and log lines a task reports, per attempt, written by its worker in batches (never
-- on the claim or completion path). A job's rows go when it is pruned.
CREATE TABLE job_progress (
    job_id bigint NOT NULL,
    attempt integer NOT NULL,
    done double precision NOT NULL,
    total double precision,
    note text,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
CREATE TABLE job_logs (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL,
    attempt integer NOT NULL,
    at timestamptz NOT NULL,
    level text NOT NULL,
    message text NOT NULL
);
CREATE INDEX job_logs_job ON job_logs (job_id, id);
