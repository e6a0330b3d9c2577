-- Rate limits' slots: the moment each rate-limited task or key may next start a job. A limited
-- claim reads and moves these under an advisory lock per key. Concurrency limits need no table:
-- a claim counts the running jobs (no more than the workers' slots), so no count can be left
-- behind by a crash.
CREATE TABLE rate_slots (
    key text PRIMARY KEY,
    next_free_at timestamptz NOT NULL
);
