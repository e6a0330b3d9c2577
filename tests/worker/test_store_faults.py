"""A worker whose store fails under it (a full disk, a file that cannot be written, a read-only
PostgreSQL) keeps running: it logs the trouble once, backs off, keeps the results of the jobs
it was running, writes them when the store takes writes again, and carries on."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from jobdeck.states import JobState
from jobdeck.store import open_store
from tests.store.test_store_faults import read_only
from tests.worker import apps
from tests.worker.helpers import (
    Processes,
    all_final,
    count_in,
    disk_full,
    ext4_disk,
    immutable,
    small_disk,
    starts,
    store_reads,
    wait_until,
)

pytestmark = pytest.mark.slow

SETTINGS = {
    "heartbeat_interval": 0.2,
    "lease_duration": 1.0,
    "rescue_interval": 0.3,
    "poll_interval": 0.1,
    "shutdown_grace": 5.0,
}
TOTAL = 40
# What each fault looks like in the worker's log, once per activity that met it.
SYMPTOMS = {
    "full disk": "database or disk is full",
    "unwritable file": "disk I/O error",
    "read-only database": "read-only",
}


@contextmanager
def sqlite_database(kind: str, tmp_path: Path) -> Iterator[tuple[str, Callable[[], object]]]:
    """A SQLite database on a disk of its own, and how to fail it."""
    disk = small_disk(tmp_path, "8m") if kind == "full disk" else ext4_disk(tmp_path)
    with disk as mount:
        path = mount / "jobs.db"
        url = f"sqlite:///{path}"
        store = open_store(url)
        store.migrate()
        store.close()

        def fault() -> AbstractContextManager[None]:
            if kind == "full disk":
                return disk_full(mount, path)
            return immutable(path, Path(f"{path}-wal"))

        yield url, fault


def run_through_the_fault(
    url: str, fault: Callable[[], AbstractContextManager[object]], symptom: str, folder: Path
) -> None:
    log = folder / "events.log"  # on the test's own disk, not the failing one
    deck = apps.make_deck(url)
    procs = Processes(url, folder)
    try:
        logged = deck.get_task("logged").options(max_attempts=1)
        logged.enqueue_many([{"token": i, "log": str(log), "seconds": 0.3} for i in range(TOTAL)])
        worker = procs.start(SETTINGS, concurrency=4)
        wait_until(lambda: sum(starts(log).values()) >= 8, 20, "eight jobs to start")
        with fault():
            failed_at = time.monotonic()
            # Longer than a lease: the jobs it was running end meanwhile, their results wait.
            wait_until(
                lambda: worker.tail(200).count(symptom) >= 2 and time.monotonic() - failed_at > 2,
                20,
                f"the worker to meet {symptom!r} and live through a lease",
            )
            assert worker.alive(), worker.tail()
            during = sum(starts(log).values())
        wait_until(store_reads(lambda: all_final(deck.store, TOTAL)), 30, "every job to succeed")
        assert worker.alive(), worker.tail()
        worker.signal(signal.SIGTERM)
        assert worker.wait(15) == 0, worker.tail()
        output = worker.output.read_text()
    finally:
        procs.kill_all()
        deck.close()
    ran = starts(log)
    assert sorted(ran) == list(range(TOTAL)) and set(ran.values()) == {1}, "a job ran twice"
    assert during < TOTAL, "the fault came after the work was done"
    # Once per activity that met the fault (fetcher, completer, heartbeat, rescuer...), not once
    # per try: no line repeats the same activity's failure.
    failures = [line for line in output.splitlines() if symptom in line]
    activities = [re.sub(r".*? jobdeck\.\w+: (\w+): .*", r"\1", line) for line in failures]
    assert len(activities) == len(set(activities)), failures
    assert "Traceback" not in output, output


@pytest.mark.parametrize("kind", ["full disk", "unwritable file"])
def test_a_sqlite_worker_lives_through_a_database_that_cannot_be_written(
    kind: str, tmp_path: Path
) -> None:
    with sqlite_database(kind, tmp_path) as (url, fault):
        run_through_the_fault(url, fault, SYMPTOMS[kind], tmp_path)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_postgres_worker_lives_through_a_database_gone_read_only(
    db_url: str, tmp_path: Path
) -> None:
    run_through_the_fault(
        db_url, lambda: read_only(db_url), SYMPTOMS["read-only database"], tmp_path
    )
    assert count_in(open_store(db_url), JobState.SUCCEEDED) == TOTAL
