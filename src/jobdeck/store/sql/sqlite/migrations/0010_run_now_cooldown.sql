-- Run Now returns the last manual run for this many seconds after it finished (declared with
-- the schedule: @deck.periodic(..., run_now_cooldown=10)), so a spammed button runs once.
ALTER TABLE schedules ADD COLUMN run_now_cooldown_seconds REAL NOT NULL DEFAULT 10;

-- The latest manual run of a schedule is one probe of this index, however many ticks it has.
CREATE INDEX jobs_manual_runs ON jobs (schedule, id) WHERE trigger = 'manual';
