-- The task list's search index (issue 17): finished jobs' searchable text (lower-cased args,
-- labels, summary and error, one per line) in an FTS5 trigram table whose rowid is the job id,
-- so a substring of 3+ characters is an index lookup (a phrase query) at any table size.
-- It is written by the worker's SearchIndexer off the hot path, never by a trigger on insert
-- or completion: a trigger cut bulk inserts from ~83k/s to ~6-10k/s (docs/performance.md).
-- search_progress is how far the indexer got, as (finished_at, job_id): a job finished at or
-- before it is searched here, any other job by the scan of the newest jobs.
-- case_sensitive 1: the text is lower-cased already (by SQLite's lower(), ASCII only, as the
-- scan does), so a search matches here exactly what the scan's instr would.
CREATE VIRTUAL TABLE job_search USING fts5(body, tokenize = 'trigram case_sensitive 1');
CREATE TABLE search_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    finished_at TEXT NOT NULL,
    job_id INTEGER NOT NULL
);
INSERT INTO search_progress (id, finished_at, job_id) VALUES (1, '0001-01-01 00:00:00.000000', 0);
-- A job's search row is deleted with it, in the same transaction (store/sqlite/queue.py:
-- prune and bulk delete, both off the hot path).
