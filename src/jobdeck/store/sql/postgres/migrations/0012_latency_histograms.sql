-- Histograms of attempts' wait (due to start) and duration, beside the counters of
-- stats_minute and written in the same statement. One row per (slot, task, shard, kind,
-- bucket) that saw an attempt: slot starts a five-minute slot (the hourly rows compact_stats
-- folds older slots into start on the hour), bucket indexes the fixed bounds of
-- jobdeck.latency.BOUNDS_MS, total_ms sums the bucket's values. Five minutes, not one: a day's
-- chart then reads a fifth of the rows, and no period draws finer than that.
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
