-- Rate limits' slots: the moment each rate-limited task or key may next start a job. A limited
-- claim reads and moves these under the write lock. Concurrency limits need no table: a claim
-- counts the running jobs (no more than the workers' slots), so no count can be left behind.
CREATE TABLE rate_slots (
    key TEXT PRIMARY KEY,
    next_free_at TEXT NOT NULL
);
