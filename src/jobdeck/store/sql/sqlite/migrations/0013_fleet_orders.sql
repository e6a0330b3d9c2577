-- Queues an operator paused. Workers read this set at each heartbeat, not at each claim, and
-- stop claiming from these queues until resumed; jobs already running finish.
CREATE TABLE queue_pauses (
    queue TEXT PRIMARY KEY,
    paused_at TEXT NOT NULL,
    paused_by TEXT NOT NULL,
    reason TEXT
);
-- An operator's "drain and stop" (Sidekiq's quiet): the worker reads it at its next heartbeat,
-- stops claiming, finishes its running jobs and exits.
ALTER TABLE workers ADD COLUMN stop_requested_at TEXT;
