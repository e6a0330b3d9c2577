-- Job dependencies: a job enqueued with after=[...] waits (state 'waiting', outside the claim's
-- jobs_fetch index) until all its parents succeeded, and ends cancelled if one of them fails,
-- is cancelled or deleted. has_children is set on a parent when a child names it, so the
-- completion path reads one flag it already returns and settles children only when set.
-- A constant default: adding the column rewrites no row.
ALTER TABLE jobs ADD COLUMN has_children boolean NOT NULL DEFAULT false;
CREATE TABLE job_dependencies (
    child_id bigint NOT NULL,
    parent_id bigint NOT NULL,
    PRIMARY KEY (child_id, parent_id)
);
CREATE INDEX job_dependencies_parent ON job_dependencies (parent_id, child_id);
