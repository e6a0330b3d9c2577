-- Fewer index entries written per job. Every claim and completion changes `state`, so each is a
-- new row version with an entry in every index whose predicate it meets:
-- * jobs_task_id: listing one task newest-first now walks jobs_task_state_id once per state and
--   merges the pages (store/listing.py); task_names skip-scans the same index.
-- * jobs_lease: the rescuer reads the running jobs through jobs_worker, whose predicate is the
--   same; there are never more running jobs than worker slots.
-- Attempts are now written once, when they end (the running one is read off its job); a
-- running attempt's row written by an earlier version is finished by that version's worker or
-- by the rescuer (see rescue_expired).
DROP INDEX jobs_task_id;
DROP INDEX jobs_lease;
