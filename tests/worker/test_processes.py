"""Real worker processes failing the way users' workers fail: SIGKILL in the middle of a run,
SIGSTOP past the lease, several workers on one queue, and a job that kills its worker."""

from __future__ import annotations

import itertools
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.states import AttemptStatus, JobState
from tests.worker.helpers import (
    Processes,
    all_final,
    executions,
    jobs_in,
    read_events,
    starts,
    statements_in_flight_done,
    stop_between_writes,
    store_reads,
    wait_until,
)

pytestmark = pytest.mark.slow

# Seconds, not the production 5 s / 30 s / 10 s: a lost job runs again within lease + sweep.
HEARTBEAT, LEASE, SWEEP = 0.5, 2.0, 0.5
PROC = {
    "heartbeat_interval": HEARTBEAT,
    "lease_duration": LEASE,
    "rescue_interval": SWEEP,
    "poll_interval": 0.1,
    "shutdown_grace": 10.0,
    "backoff_base": 0.1,
}


def test_a_worker_killed_mid_run_loses_nothing_and_only_its_jobs_run_twice(
    deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    total = 200
    deck.get_task("logged").enqueue_many(
        [{"token": i, "log": str(log), "seconds": 0.2 + (i % 4) * 0.1} for i in range(total)]
    )
    first = procs.start(PROC, concurrency=20)
    wait_until(lambda: sum(starts(log).values()) >= 60, 30, "60 jobs to start")

    killed_at = datetime.now(UTC)
    first.signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    wait_until(lambda: statements_in_flight_done(deck.store.url), 10, "its last statements")
    running = jobs_in(deck.store, JobState.RUNNING)
    held = {job.id for job in running if first.holds(job)}
    assert held and len(held) == len(running), "every running job is the dead worker's"
    finished = len(jobs_in(deck.store, JobState.SUCCEEDED))
    assert finished < total - len(held), "the kill came after the run was over"

    second = procs.start(PROC, concurrency=20)
    wait_until(store_reads(lambda: all_final(deck.store, total)), 60, "every job to succeed")
    second.signal(signal.SIGTERM)
    assert second.wait(15) == 0

    jobs = jobs_in(deck.store)
    assert len(jobs) == total and {j.state for j in jobs} == {JobState.SUCCEEDED}
    token_of = {job.id: job.args["token"] for job in jobs}
    ran = starts(log)
    assert sorted(ran) == list(range(total)), "a job never ran"
    twice = {job_id for job_id, token in token_of.items() if ran[token] > 1}
    assert twice <= held, "a job the dead worker did not hold ran twice"
    assert max(ran.values()) <= 2

    for job in jobs:
        attempts = deck.store.get_attempts(job.id)
        if job.id not in held:
            assert job.attempt == 1 and len(attempts) == 1
            continue
        # Rescued: the lost attempt failed, the second worker's attempt succeeded.
        assert job.attempt == 2 and job.result["pid"] == second.pid
        lost, redone = attempts
        assert lost.status == AttemptStatus.FAILED and first.holds_id(lost.worker_id)
        assert "lost" in (lost.error or "")
        assert redone.status == AttemptStatus.SUCCEEDED and second.holds_id(redone.worker_id)
        assert lost.finished_at is not None
        rescued_after = (lost.finished_at - killed_at).total_seconds()
        # The lease ran out at most LEASE after the kill; a sweep comes at most SWEEP later.
        assert 0 < rescued_after <= LEASE + SWEEP + 1.0, rescued_after


def test_a_worker_paused_past_its_lease_changes_nothing_when_it_wakes(
    db_url: str, deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    settings = {**PROC, "heartbeat_interval": 0.3, "lease_duration": 1.2, "rescue_interval": 0.3}
    log, marker = tmp_path / "events.log", tmp_path / "first-run"
    # The first execution sleeps 3 s; the rescued one finds the marker and returns at once.
    handle = deck.get_task("logged").enqueue(token=1, log=str(log), seconds=3.0, marker=str(marker))
    sleeper = procs.start(settings, concurrency=2)
    wait_until(lambda: starts(log)[1] == 1, 20, "the job to start")
    stop_between_writes(sleeper, db_url)
    stopped_at = datetime.now(UTC)

    rescuer = procs.start(settings, concurrency=2)
    handle.wait(30)
    done = handle.row
    assert done.state == JobState.SUCCEEDED and rescuer.holds(done)
    assert done.result["pid"] == rescuer.pid and done.attempt == 2
    attempts = deck.store.get_attempts(handle.id)

    sleeper.signal(signal.SIGCONT)
    wait_until(
        lambda: any(e.kind == "end" and e.pid == sleeper.pid for e in read_events(log)),
        10,
        "the paused execution to finish",
    )
    # Draining flushes the late result: the write is attempted, and fenced.
    sleeper.signal(signal.SIGTERM)
    assert sleeper.wait(15) == 0

    assert handle.refresh().row == done
    assert deck.store.get_attempts(handle.id) == attempts
    lost, redone = attempts
    assert lost.status == AttemptStatus.FAILED and sleeper.holds_id(lost.worker_id)
    assert "lost" in (lost.error or "")
    assert redone.status == AttemptStatus.SUCCEEDED and rescuer.holds_id(redone.worker_id)
    assert lost.finished_at is not None
    rescued_after = (lost.finished_at - stopped_at).total_seconds()
    assert 0 < rescued_after <= settings["lease_duration"] + settings["rescue_interval"] + 1.0
    now = datetime.now(UTC)
    [stats] = deck.store.stats_by_task(now - timedelta(hours=1), now + timedelta(hours=1))
    assert (stats.succeeded, stats.failed) == (1, 1)
    rescuer.signal(signal.SIGTERM)
    assert rescuer.wait(15) == 0


@pytest.mark.parametrize("workers", [2, 4])
def test_worker_processes_on_one_queue_never_run_a_job_twice(
    deck: JobDeck, procs: Processes, tmp_path: Path, workers: int
) -> None:
    log = tmp_path / "events.log"
    total = 200
    started = [procs.start(PROC, concurrency=5) for _ in range(workers)]
    for proc in started:
        proc.wait_registered(deck.store)
    deck.get_task("logged").enqueue_many(
        [{"token": i, "log": str(log), "seconds": 0.05} for i in range(total)]
    )
    wait_until(store_reads(lambda: all_final(deck.store, total)), 60, "every job to succeed")
    for proc in started:
        proc.signal(signal.SIGTERM)
    assert [proc.wait(15) for proc in started] == [0] * workers

    runs = executions(log)
    assert sorted(runs) == list(range(total))
    for token, token_runs in runs.items():
        assert len(token_runs) == 1, f"job with token {token} ran {len(token_runs)} times"
        assert_no_overlap(token_runs)
        assert token_runs[0][2] is not None
    pids = {token_runs[0][0] for token_runs in runs.values()}
    assert pids <= {proc.pid for proc in started}
    assert len(pids) >= 2, "the run did not spread over the workers"
    assert {job.attempt for job in jobs_in(deck.store)} == {1}


def assert_no_overlap(token_runs: list[tuple[int, float, float | None]]) -> None:
    ordered = sorted(token_runs, key=lambda run: run[1])
    for (_, _, end), (_, next_start, _) in itertools.pairwise(ordered):
        assert end is not None and end <= next_start, ordered


def test_a_job_that_kills_its_worker_every_time_fails_after_max_attempts(
    deck: JobDeck, procs: Processes
) -> None:
    settings = {
        **PROC,
        "heartbeat_interval": 0.2,
        "lease_duration": 1.0,
        "rescue_interval": 0.3,
    }
    handle = deck.get_task("kill_self").options(max_attempts=3).enqueue()
    deaths: list[int | None] = []
    # A supervisor, as systemd or Kubernetes would be: restart the worker whenever it dies.
    while not handle.refresh().state.is_final:
        assert len(deaths) < 6, f"the job keeps killing workers: {deaths}\n{procs.tails()}"
        proc = procs.start(settings, concurrency=2)
        wait_until(
            lambda: not proc.alive() or handle.refresh().state.is_final,  # noqa: B023
            20,
            "the worker to die or the job to end",
        )
        if not proc.alive():
            deaths.append(proc.wait(1))

    assert deaths == [-signal.SIGKILL] * 3
    job = handle.row
    assert (job.state, job.attempt, job.max_attempts) == (JobState.FAILED, 3, 3)
    attempts = deck.store.get_attempts(handle.id)
    assert [a.status for a in attempts] == [AttemptStatus.FAILED] * 3
    assert all("lost" in (a.error or "") for a in attempts)
    assert len({a.worker_id for a in attempts}) == 3
    survivor = procs.started[-1]
    survivor.signal(signal.SIGTERM)
    assert survivor.wait(15) == 0
