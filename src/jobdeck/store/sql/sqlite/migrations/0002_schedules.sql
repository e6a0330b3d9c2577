-- Periodic schedules, one row per claimed tick, and alert events.
CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    cron TEXT,
    every_seconds REAL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    expected_max_age_seconds REAL,
    alert_after_seconds REAL,
    catch_up TEXT NOT NULL DEFAULT 'latest',
    args TEXT NOT NULL DEFAULT '{}',
    queue TEXT NOT NULL DEFAULT 'default',
    active INTEGER NOT NULL DEFAULT 1,
    paused INTEGER NOT NULL DEFAULT 0,
    last_tick_at TEXT,
    alert_state TEXT NOT NULL DEFAULT 'ok',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The unique key is what makes a tick fire once however many schedulers race for it.
CREATE TABLE schedule_ticks (
    schedule TEXT NOT NULL,
    tick_at TEXT NOT NULL,
    job_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (schedule, tick_at)
);

CREATE INDEX jobs_schedule_state ON jobs (schedule, state) WHERE schedule IS NOT NULL;

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    delivery_error TEXT
);
CREATE INDEX alerts_created ON alerts (created_at);
