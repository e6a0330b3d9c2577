-- Each worker's host clock as last measured against the database's (heartbeat_worker): how far
-- it is ahead, in milliseconds (negative: behind). Leases never depend on it; it is shown so
-- that an operator sees a host whose clock is off.
ALTER TABLE workers ADD COLUMN clock_offset_ms bigint;
