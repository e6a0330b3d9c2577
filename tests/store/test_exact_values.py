"""Arguments and results come back exactly as they were written, on both stores: the numbers
JSON can hold (1e16 stays a float, -0.0 keeps its sign, 2**70 stays an int) and key order."""

from __future__ import annotations

import json
import math

from jobdeck.states import AttemptStatus, JobState
from jobdeck.store.base import ClaimRequest, NewJob, Outcome, Store

VALUES = {
    "zebra": 1,  # first, though jsonb would put shorter and earlier keys first
    "big": 1e16,
    "bigger": 1.5e300,
    "negative_zero": -0.0,
    "tiny": 5e-324,
    "tenth": 0.1,
    "huge_int": 2**70,
    "float_that_looks_whole": 3.0,
    "a": [1.0, -0.0, 1e16, {"b": 2, "a": 1}],
}


def same(left: object, right: object) -> bool:
    """Equal, with equal types and signs all the way down (1e16 == 10**16 in Python)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return left == right and math.copysign(1, left) == math.copysign(1, right)  # type: ignore[arg-type]
    if isinstance(left, dict):
        assert isinstance(right, dict)
        return list(left) == list(right) and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        assert isinstance(right, list)
        return len(left) == len(right) and all(map(same, left, right))
    return left == right


def test_arguments_and_results_round_trip_exactly(store: Store) -> None:
    text = json.dumps(VALUES)
    [inserted] = store.insert_jobs([NewJob("exact", text)])
    store.insert_jobs([NewJob("exact", text), NewJob("exact", text)])  # the batch path too
    claimed = store.claim_jobs(ClaimRequest("w1", ["default"], 10, 30.0))
    assert len(claimed) == 3
    for job in claimed:
        assert job.args_json == text
        assert same(json.loads(job.args_json), VALUES)
    done = [
        Outcome(
            job.id,
            job.attempt,
            job.task,
            AttemptStatus.SUCCEEDED,
            JobState.SUCCEEDED,
            job.started_at,
            job.started_at,
            result_json=text,
        )
        for job in claimed
    ]
    store.complete_jobs("w1", done, shard=1)
    row = store.get_job(inserted.job_id)
    assert row is not None
    assert same(row.args, VALUES) and same(row.result, VALUES)


def test_migration_0007_keeps_the_rows_and_the_audit_log_of_an_older_database(
    pg_template: str,
) -> None:
    import uuid

    import psycopg

    from jobdeck.store import open_store
    from jobdeck.store.queries import load_migrations, split_statements
    from tests import pgtools

    name = f"jd_old_{uuid.uuid4().hex[:12]}"
    pgtools.create_database(name, "template0")
    url = pgtools.url_for(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE jobdeck_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL)"
            )
            for migration in load_migrations("postgres"):
                if migration.version >= 7:
                    break
                for statement in split_statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO jobdeck_migrations VALUES (%s, %s, now())",
                    (migration.version, migration.name),
                )
        store = open_store(url)
        try:
            [old] = store.insert_jobs([NewJob("old", '{"n": 1e16}')])  # as jsonb keeps it
            [job] = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
            # Finished the way a version of that time wrote it: today's complete_jobs also
            # writes the tables later migrations add (error groups 0011, stats_latency 0012).
            with store.transaction() as conn:
                conn.execute(
                    "UPDATE jobs SET state = 'succeeded', finished_at = started_at, "
                    "duration_ms = 0, result = '{\"ok\": true}' WHERE id = %s",
                    (job.id,),
                )
                conn.execute(
                    "INSERT INTO attempts (job_id, attempt, status, worker_id, started_at, "
                    "finished_at, duration_ms) SELECT id, 1, 'succeeded', 'w1', started_at, "
                    "started_at, 0 FROM jobs WHERE id = %s",
                    (job.id,),
                )
            assert store.migrate()[0] == "0007_exact_json"  # and any later ones
            row = store.get_job(old.job_id)
            assert row is not None and row.args == {"n": 10**16} and row.result == {"ok": True}
            [new] = store.insert_jobs([NewJob("new", '{"n": 1e16}')])
            assert store.get_job(new.job_id).args == {"n": 1e16}  # type: ignore[union-attr]
            with store.transaction() as conn:
                details = conn.execute(
                    "SELECT details->>'job_name', details->'results'->>'ok' FROM audit_log"
                ).fetchall()
            assert details == [("old", "true")]
        finally:
            store.close()
    finally:
        pgtools.drop_database(name)
