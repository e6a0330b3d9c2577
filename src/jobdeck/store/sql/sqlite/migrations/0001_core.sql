-- Core queue: jobs, their attempts, workers and per-minute stats rollups.
-- Timestamps are UTC text 'YYYY-MM-DD HH:MM:SS.ffffff', which sorts in time order.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task TEXT NOT NULL,
    queue TEXT NOT NULL DEFAULT 'default',
    args TEXT NOT NULL DEFAULT '{}',
    labels TEXT NOT NULL DEFAULT '{}',
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    timeout REAL,
    enqueued_at TEXT NOT NULL,
    run_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    duration_ms INTEGER,
    worker_id TEXT,
    lease_expires_at TEXT,
    unique_key TEXT,
    dedupe_key TEXT,
    unique_while TEXT NOT NULL DEFAULT 'active',
    schedule TEXT,
    tick_at TEXT,
    trigger TEXT NOT NULL DEFAULT 'code',
    triggered_by TEXT,
    result TEXT,
    summary TEXT,
    error TEXT
);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX jobs_fetch ON jobs (queue, priority DESC, run_at, id)
    WHERE state IN ('scheduled', 'available', 'retryable');
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_worker ON jobs (worker_id) WHERE state = 'running';
CREATE INDEX jobs_state_id ON jobs (state, id);
CREATE INDEX jobs_task_id ON jobs (task, id);
CREATE INDEX jobs_task_state_id ON jobs (task, state, id);
CREATE INDEX jobs_schedule_id ON jobs (schedule, id) WHERE schedule IS NOT NULL;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    worker_id TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER,
    error TEXT,
    traceback TEXT
);
CREATE UNIQUE INDEX attempts_job ON attempts (job_id, attempt);
CREATE INDEX attempts_finished ON attempts (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    queues TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    last_heartbeat TEXT NOT NULL,
    state TEXT NOT NULL,
    stopped_at TEXT
);
CREATE INDEX workers_heartbeat ON workers (last_heartbeat);

-- One row per (minute, task, shard): each worker writes its own shard, so no row is hot.
-- minute is Unix seconds at the start of the minute: bucketing is integer arithmetic.
CREATE TABLE stats_minute (
    minute INTEGER NOT NULL,
    task TEXT NOT NULL,
    shard INTEGER NOT NULL,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, task, shard)
) WITHOUT ROWID;
