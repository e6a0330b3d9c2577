-- Cancelling a running job: the operator's request is stamped on the job, its worker reads it
-- at its next heartbeat (with its other orders) and stops the task. A rescue of a job whose
-- worker is gone ends it cancelled instead of retrying it.
ALTER TABLE jobs ADD COLUMN cancel_requested_at TEXT;
ALTER TABLE jobs ADD COLUMN cancelled_by TEXT;
-- Progress and log lines a task reports, per attempt, written by its worker in batches (never
-- on the claim or completion path). A job's rows go when it is pruned.
CREATE TABLE job_progress (
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    done REAL NOT NULL,
    total REAL,
    note TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job_id, attempt)
) WITHOUT ROWID;
CREATE TABLE job_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX job_logs_job ON job_logs (job_id, id);
