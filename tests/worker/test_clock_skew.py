"""Leases and heartbeats follow the database's clock: a host whose clock is off neither loses its
jobs early nor holds them too long, and its offset is measured and reported."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.settings import Settings
from jobdeck.states import JobState
from jobdeck.store import open_store
from jobdeck.store.base import WorkerInfo
from jobdeck.worker.upkeep import Rescuer
from tests.worker.helpers import FAST, HostClock, jobs_in, running_worker, starts, wait_until


def test_a_worker_whose_clock_is_behind_keeps_its_jobs_and_reports_the_offset(
    deck: JobDeck, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="jobdeck.worker")
    log = tmp_path / "events.log"
    handle = deck.get_task("logged").enqueue(token=1, log=str(log), seconds=1.5)
    # Another host sweeps for lost jobs all the while the job runs (1.5 s, leases of 1 s).
    other = open_store(db_url)
    rescuer = Rescuer(other, Settings(**FAST))

    def finished() -> bool:
        rescuer.run_once()
        return handle.refresh().state in (JobState.SUCCEEDED, JobState.FAILED)

    try:
        with running_worker(deck, clock=HostClock(-40.0)) as worker:
            wait_until(finished, 15, "the job to finish", interval=0.1)
            wait_until(
                lambda: [w.clock_offset_ms for w in deck.store.list_workers()] != [None],
                5,
                "the offset to be recorded",
            )
            (info,) = deck.store.list_workers()
            assert info.id == worker.id
    finally:
        other.close()
    assert rescuer.rescued == 0, "a live worker's job was rescued: its lease was already out"
    assert starts(log) == {1: 1}
    assert handle.state == JobState.SUCCEEDED
    assert [a.attempt for a in deck.store.get_attempts(handle.id)] == [1]
    assert info.clock_offset_ms is not None and abs(info.clock_offset_ms + 40_000) < 500
    warnings = [r.getMessage() for r in caplog.records if "clock" in r.getMessage()]
    assert len(warnings) == 1 and "40.0 s behind the database's" in warnings[0]
    # Times the worker wrote are the database's, not its host's: 40 s would show.
    [attempt] = deck.store.get_attempts(handle.id)
    assert attempt.finished_at is not None
    assert abs(attempt.finished_at - datetime.now(UTC)) < timedelta(seconds=10)
    assert attempt.duration_ms is not None and 1500 <= attempt.duration_ms < 3000


def test_a_worker_whose_clock_is_ahead_gets_leases_no_longer_than_the_setting(
    deck: JobDeck,
) -> None:
    deck.get_task("stuck").options(max_attempts=1).enqueue()
    with running_worker(deck, clock=HostClock(3600.0)):
        [job] = wait_until(lambda: jobs_in(deck.store, JobState.RUNNING), 10, "the job to run")
        assert job.lease_expires_at is not None
        # A lease of lease_duration (1 s) from the database's time, not an hour more.
        assert job.lease_expires_at - datetime.now(UTC) < timedelta(seconds=FAST["lease_duration"])


def test_jobdeck_workers_lists_each_host_with_its_clock_offset(db_url: str) -> None:
    from click.testing import CliRunner

    from jobdeck.console import main

    store = open_store(db_url)
    try:
        now = datetime.now(UTC)
        for worker_id, host, offset in (("a:1:x", "alpha", -40_250), ("b:2:y", "beta", 3)):
            store.register_worker(WorkerInfo(worker_id, host, 1, ["default"], 4, now, now))
            store.heartbeat_worker(worker_id, None, "running", offset)
        store.register_worker(WorkerInfo("c:3:z", "gamma", 3, ["mail"], 2, now, now))
    finally:
        store.close()
    result = CliRunner().invoke(main, ["workers", "--database", db_url])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "-40.250 s" in lines["alpha"] and "+0.003 s" in lines["beta"]
    assert lines["gamma"].rstrip().endswith("-")  # not measured yet
    assert "ahead of the database's" in result.output
