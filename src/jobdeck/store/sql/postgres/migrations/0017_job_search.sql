-- The task list's search index (issue 17): finished jobs' searchable text (lower-cased args,
-- labels, summary and error, one per line) with a trigram GIN index, so LIKE '%text%' of 3+
-- characters is an index lookup at any table size. Same meaning as the SQLite 0017 (an FTS5
-- trigram table there); schema comparisons skip job_search as they skip FTS5's tables.
-- It is written by the worker's SearchIndexer off the hot path, never on insert or completion.
-- search_progress is how far the indexer got, as (finished_at, job_id): a job finished at or
-- before it is searched here, any other job by the scan of the newest jobs. The indexer locks
-- its row (SKIP LOCKED), so one worker indexes at a time.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE job_search (
    job_id bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    body text NOT NULL
);
CREATE INDEX job_search_body ON job_search USING gin (body gin_trgm_ops);
CREATE TABLE search_progress (
    id integer PRIMARY KEY CHECK (id = 1),
    finished_at timestamptz NOT NULL,
    job_id bigint NOT NULL
);
INSERT INTO search_progress (id, finished_at, job_id) VALUES (1, '0001-01-01 00:00:00+00', 0);
