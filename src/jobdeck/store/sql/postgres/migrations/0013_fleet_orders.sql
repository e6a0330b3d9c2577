-- Queues an operator paused. Workers read this set at each heartbeat, not at each claim, and
-- stop claiming from these queues until resumed; jobs already running finish.
CREATE TABLE queue_pauses (
    queue text PRIMARY KEY,
    paused_at timestamptz NOT NULL,
    paused_by text NOT NULL,
    reason text
);
-- An operator's "drain and stop" (Sidekiq's quiet): the worker reads it at its next heartbeat,
-- stops claiming, finishes its running jobs and exits.
ALTER TABLE workers ADD COLUMN stop_requested_at timestamptz;
