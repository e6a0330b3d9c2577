-- Histograms of attempts' wait (due to start) and duration, beside the counters of
-- stats_minute and written in the same statement. One row per (slot, task, shard, kind, bucket)
-- that saw an attempt: slot starts a 15-minute slot (compact_stats folds older
-- ones into 2-hour, 6-hour and day slots), bucket indexes the fixed bounds of
-- jobdeck.latency.BOUNDS_MS, total_ms sums the bucket's values. Fifteen minutes, not one: a
-- day's chart reads a fifteenth of the rows per-minute histograms would hold.
CREATE TABLE stats_latency (
    slot timestamptz NOT NULL,
    task text NOT NULL,
    shard integer NOT NULL,
    kind text NOT NULL,
    bucket smallint NOT NULL,
    n bigint NOT NULL DEFAULT 0,
    total_ms bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (slot, task, shard, kind, bucket)
);
