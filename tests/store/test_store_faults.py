"""A store whose database cannot take a write (a full disk, a read-only database) raises
StoreUnavailable from every verb, never the driver's own error, and works again once it can."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobdeck.errors import StoreUnavailable
from jobdeck.states import AttemptStatus, JobState
from jobdeck.store import open_store
from jobdeck.store.base import ClaimRequest, NewJob, Outcome, Store, WorkerInfo
from tests.worker.helpers import disk_full, small_disk, wait_until


def every_writing_verb(store: Store) -> list[tuple[str, Callable[[], Any]]]:
    """One call of each verb a worker and a producer write with."""
    [claimed] = store.claim_jobs(ClaimRequest("w1", ["default"], 1, 30.0))
    done = Outcome(
        claimed.id,
        claimed.attempt,
        claimed.task,
        AttemptStatus.SUCCEEDED,
        JobState.SUCCEEDED,
        claimed.started_at,
        claimed.started_at,
        result_json=json.dumps({"pad": "r" * 20_000}),
    )
    big = json.dumps({"pad": "x" * 20_000})
    return [
        ("insert_jobs", lambda: store.insert_jobs([NewJob("a", big) for _ in range(5)])),
        ("claim_jobs", lambda: store.claim_jobs(ClaimRequest("w1", ["default"], 5, 30.0))),
        ("complete_jobs", lambda: store.complete_jobs("w1", [done], shard=1)),
        ("renew_leases", lambda: store.renew_leases("w1", 30.0)),
        ("heartbeat_worker", lambda: store.heartbeat_worker("w1", None, "running", 5)),
        ("rescue_expired", store.rescue_expired),
        ("deregister_worker", lambda: store.deregister_worker("w1")),
    ]


def prepare(store: Store) -> None:
    store.insert_jobs([NewJob("a") for _ in range(20)])
    now = store.clock.now()  # type: ignore[attr-defined]
    store.register_worker(WorkerInfo("w1", "host", 1, ["default"], 4, now, now))


def check_every_verb(store: Store, fault: Callable[[], Any], match: str) -> None:
    prepare(store)
    verbs = every_writing_verb(store)
    with fault():
        for name, call in verbs:
            # Twice: the second call runs on whatever the first failure left behind.
            for _ in range(2):
                with pytest.raises(StoreUnavailable, match=match):
                    call()
                    # A verb with nothing to write may succeed: make it write.
                    raise StoreUnavailable(f"{name} wrote nothing: {match}")
    for _, call in verbs:
        call()
    assert store.get_job(1) is not None


def test_a_full_disk_is_store_unavailable_from_every_verb_until_it_has_room(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path) as mount:
        path = mount / "jobs.db"
        store = open_store(f"sqlite:///{path}")
        try:
            store.migrate()
            check_every_verb(
                store, lambda: disk_full(mount, path), "database or disk is full|wrote nothing"
            )
        finally:
            store.close()


@contextmanager
def read_only(url: str) -> Iterator[None]:
    """The database refuses writes from new sessions (as a standby does); old ones are ended."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        end_other_sessions(admin)
    try:
        yield
    finally:
        with psycopg.connect(
            url, autocommit=True, options="-c default_transaction_read_only=off"
        ) as admin:
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            end_other_sessions(admin)


def end_other_sessions(admin: psycopg.Connection) -> None:
    """End every other session of the database and wait until those are gone: each has sent
    its client the message that says so by then, so a pool sees its connections are dead.
    (Clients may open new sessions meanwhile: those are not waited for.)"""
    ended = [row[0] for row in admin.execute(TERMINATE).fetchall()]
    wait_until(
        lambda: admin.execute(STILL_THERE, (ended,)).fetchone() == (0,),
        10,
        "the ended sessions to be gone",
    )


TERMINATE = (
    "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
STILL_THERE = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)"


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_read_only_database_is_store_unavailable_from_every_verb(db_url: str) -> None:
    store = open_store(db_url)
    try:
        check_every_verb(store, lambda: read_only(db_url), "read-only|wrote nothing")
    finally:
        store.close()
