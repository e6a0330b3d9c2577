"""Limits across real worker processes on both stores: two workers never run more of a limited
task than its limit, a worker killed holding limited slots frees them within its lease, and a
rate limit holds across two workers."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdeck import JobDeck
from jobdeck.states import JobState
from tests.worker import apps
from tests.worker.helpers import (
    FAST,
    Processes,
    all_final,
    executions,
    read_events,
    running_worker,
    wait_until,
)

pytestmark = pytest.mark.slow

HEARTBEAT, LEASE, SWEEP = 0.5, 2.0, 0.5
PROC: dict[str, Any] = {
    "heartbeat_interval": HEARTBEAT,
    "lease_duration": LEASE,
    "rescue_interval": SWEEP,
    "poll_interval": 0.1,
    "shutdown_grace": 10.0,
    "limited": True,
}


@pytest.fixture
def limited_deck(db_url: str) -> Iterator[JobDeck]:
    made = apps.make_deck(db_url, limited=True, **FAST)
    try:
        yield made
    finally:
        made.close()


def most_at_once(log: Path) -> int:
    """The highest number of executions that overlapped, from their start and end lines."""
    edges = [
        (moment, step)
        for runs in executions(log).values()
        for _, begun, ended in runs
        for moment, step in ((begun, 1), (ended if ended is not None else time.time(), -1))
    ]
    running = peak = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):  # an end before a start
        running += step
        peak = max(peak, running)
    return peak


def test_two_workers_never_run_more_than_the_task_limit(
    limited_deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    task = limited_deck.get_task("logged_limited")
    task.enqueue_many([{"token": i, "log": str(log), "seconds": 0.05} for i in range(40)])
    procs.start(PROC, concurrency=4)
    procs.start(PROC, concurrency=4)
    wait_until(lambda: all_final(limited_deck.store, 40), 60, "40 jobs to succeed")
    assert most_at_once(log) == 3, procs.tails()
    assert len({e.pid for e in read_events(log)}) == 2, "both workers ran some"


def test_a_killed_worker_frees_its_limited_slots_within_its_lease(
    limited_deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    task = limited_deck.get_task("logged_limited")
    # The long jobs sleep on their first run only (the marker): rescued, they run at once.
    task.enqueue_many(
        [
            {"token": i, "log": str(log), "seconds": 30.0, "marker": str(tmp_path / f"m{i}")}
            for i in range(3)
        ]
    )
    task.enqueue_many([{"token": i, "log": str(log), "seconds": 0.0} for i in range(3, 6)])
    first = procs.start(PROC, concurrency=4)
    wait_until(lambda: len(read_events(log)) == 3, 30, "the 3 long jobs to start")
    second = procs.start(PROC, concurrency=4)
    second.wait_registered(limited_deck.store)
    time.sleep(0.3)  # long enough for the second worker to claim, were a slot free
    assert len(read_events(log)) == 3, "the limit held while the first worker was alive"
    first.signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    killed_at = time.time()

    def all_done() -> bool:
        return limited_deck.store.count_by_state().get(JobState.SUCCEEDED, 0) == 6

    wait_until(all_done, LEASE + SWEEP + 10, "every job to run on the second worker")
    assert time.time() - killed_at < LEASE + SWEEP + 3, "slots freed within the lease"
    short_starts = [e.at for e in read_events(log) if e.kind == "start" and e.token >= 3]
    assert len(short_starts) == 3 and min(short_starts) > killed_at


def test_a_rate_limit_holds_across_two_workers(
    limited_deck: JobDeck, procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "events.log"
    task = limited_deck.get_task("logged_rated")
    total = 30
    # Both workers are up before the first job is due, each runs one job at a time, and a job
    # lasts longer than two slots: one worker alone cannot keep up with the rate, so the other
    # claims too (with four slots each, one worker could take every slot).
    for worker in (procs.start(PROC, concurrency=1), procs.start(PROC, concurrency=1)):
        worker.wait_registered(limited_deck.store)
    task.enqueue_many([{"token": i, "log": str(log), "seconds": 0.12} for i in range(total)])
    wait_until(lambda: all_final(limited_deck.store, total), 30, "every rated job to succeed")
    begun = sorted(e.at for e in read_events(log) if e.kind == "start")
    interval = 1 / 20
    # Slots are spaced one interval apart, and a start may come late in its slot (the next
    # one then closes the gap): six starts span at least four intervals. A start line follows
    # its claim by a few ms.
    for i in range(len(begun) - 5):
        assert begun[i + 5] - begun[i] >= 4 * interval - 0.03, (i, begun[i : i + 6])
    assert begun[-1] - begun[0] >= (total - 2) * interval - 0.03
    assert len({e.pid for e in read_events(log)}) == 2, "both workers ran some"


def test_jobs_behind_a_task_that_fills_up_start_without_waiting_for_a_poll(db_url: str) -> None:
    # A long poll: were the worker to wait after its partial claim, "fast" would wait for it.
    deck = apps.make_deck(db_url, **{**FAST, "poll_interval": 5.0, "concurrency": 4})
    release = threading.Event()
    deck.task(name="slow", concurrency=1, priority=5)(lambda: release.wait(10))
    deck.task(name="fast")(lambda: None)
    try:
        deck.get_task("slow").enqueue_many([{} for _ in range(40)])
        deck.get_task("fast").enqueue_many([{} for _ in range(3)])
        with running_worker(deck):
            started = time.monotonic()
            wait_until(
                lambda: deck.store.count_by_state().get(JobState.SUCCEEDED, 0) == 3,
                4.0,
                "the fast jobs to run beside the one slow job",
            )
            assert time.monotonic() - started < 2.0
            release.set()
    finally:
        release.set()
        deck.close()
