"""Three worker hosts on one PostgreSQL, each in a network namespace of its own that reaches the
server over a link through a relay: about 3,000 fast jobs, one host cut off for 20 s, another
killed. No job runs twice but those a lost host held when it was lost, every job finishes, and
the killed host's jobs run again within lease + sweep, ahead of the backlog.

Figures (jobs, duplicates, time to re-run the killed host's jobs) are printed: run with -s.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdeck.states import JobState
from jobdeck.store import open_store
from tests.multihost.network import CannotMakeHosts, Host, Relay, hosts
from tests.worker import apps
from tests.worker.helpers import (
    WorkerProcess,
    count_in,
    executions,
    read_events,
    store_reads,
    wait_until,
)

pytestmark = pytest.mark.slow

JOBS = 3000
JOB_SECONDS = 0.05
CONCURRENCY = 4
PARTITION_S = 20.0
# Short timings, so that the test ends in well under a minute and a half: a lost host's jobs
# run again within LEASE + SWEEP; the partition outlasts several leases.
HEARTBEAT, LEASE, SWEEP = 0.5, 4.0, 1.0
SETTINGS = {
    "heartbeat_interval": HEARTBEAT,
    "lease_duration": LEASE,
    "rescue_interval": SWEEP,
    "poll_interval": 0.2,
    "shutdown_grace": 5.0,
    "scheduler_enabled": False,
}
NAMES = ["host-a", "host-b", "host-c"]  # a is cut off, b is killed, c stays up


def made_hosts(names: list[str]) -> Iterator[list[Host]]:
    try:
        with hosts(names) as made:
            yield made
    except CannotMakeHosts as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot make network namespaces under CI=true: {exc}")
        pytest.skip(f"cannot make network namespaces here: {exc}")


@pytest.fixture
def three_hosts() -> Iterator[list[Host]]:
    yield from made_hosts(NAMES)


@pytest.fixture
def two_hosts() -> Iterator[list[Host]]:
    yield from made_hosts(NAMES[:2])


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_three_hosts_a_partition_and_a_kill(
    db_url: str, three_hosts: list[Host], tmp_path: Path
) -> None:
    began = time.monotonic()
    log = tmp_path / "events.log"
    relay = Relay(("127.0.0.1", 5432))
    workers: dict[str, WorkerProcess] = {}
    store = open_store(db_url)
    try:
        for host in three_hosts:
            port = relay.listen(host)
            # The same database, reached over the host's link: the namespace has no other way.
            url = db_url.replace("127.0.0.1:5432", f"{host.link_address}:{port}")
            workers[host.name] = WorkerProcess(
                url,
                tmp_path,
                SETTINGS,
                CONCURRENCY,
                name=host.name,
                host=host.name,
                prefix=("ip", "netns", "exec", host.netns),
            ).start()
        for worker in workers.values():
            worker.wait_registered(store, timeout=30)
        a, b, c = (workers[name] for name in NAMES)
        cut_off, killed = three_hosts[0], "host-b"

        producer = apps.make_deck(db_url)
        logged = producer.get_task("logged").options(max_attempts=5)
        logged.enqueue_many(
            [{"token": i, "log": str(log), "seconds": JOB_SECONDS} for i in range(JOBS)]
        )
        producer.close()
        pids = {w.pid: name for name, w in workers.items()}

        def started_on(name: str) -> int:
            return sum(1 for e in read_events(log) if e.kind == "start" and pids[e.pid] == name)

        wait_until(lambda: all(started_on(n) >= 20 for n in NAMES), 30, "every host to work")
        cut_at = time.time()
        relay.cut(cut_off)
        # The kill comes once host-c has worked a little while host-a is cut off.
        c_at_cut = started_on("host-c")
        wait_until(lambda: started_on("host-c") >= c_at_cut + 40, 30, "host-c to go on alone")
        killed_at = time.time()
        b.signal(signal.SIGKILL)
        assert b.wait(10) == -signal.SIGKILL
        wait_until(lambda: time.time() >= cut_at + PARTITION_S, PARTITION_S + 5, "the partition")
        healed_at = time.time()
        relay.heal(cut_off)
        wait_until(
            store_reads(lambda: count_in(store, JobState.SUCCEEDED) == JOBS),
            60,
            "every job to succeed",
        )
        finished_at = time.time()
        for worker in (a, c):
            worker.signal(signal.SIGTERM)
        for worker in (a, c):
            assert worker.wait(15) == 0, worker.tail()
        reported = {w.host for w in store.list_workers()}
        offsets = [getattr(w, "clock_offset_ms", None) for w in store.list_workers()]
        fenced = a.output.read_text().count("lease lost")
        succeeded = count_in(store, JobState.SUCCEEDED)
    finally:
        for worker in workers.values():
            worker.kill()
        relay.close()
        store.close()

    # -- what happened, from the executions the task recorded -----------------------------------
    runs = executions(log)
    host_of = pids
    assert reported == set(NAMES), "each worker reports its own host name"
    assert sorted(runs) == list(range(JOBS)), "a job never ran"
    assert succeeded == JOBS

    def lost_with(name: str, at: float, run: tuple[int, float, float | None]) -> bool:
        """An execution its host was in the middle of (or had not recorded) when it was lost."""
        pid, start, _ = run
        return host_of[pid] == name and start < at

    twice = {token: r for token, r in runs.items() if len(r) > 1}
    # Side effects carried out twice: two executions that both ran to their end.
    completed_twice = {t for t, r in twice.items() if sum(end is not None for *_, end in r) > 1}
    # Every execution but a job's last is one a lost host held when it was lost: the partition
    # (outlasting the lease) or the kill. The cut-off host claims nothing while cut off (its
    # claims wait in the relay), so what it started before the heal it had claimed before the
    # cut, a thread starting it a moment after; a job it claimed during the partition (the
    # claim landing after the heal) runs once.
    for token, token_runs in twice.items():
        earlier = sorted(token_runs, key=lambda r: r[1])[:-1]
        assert all(
            lost_with("host-a", healed_at, r) or lost_with(killed, killed_at, r) for r in earlier
        ), (token, [(host_of[p], s - cut_at, e) for p, s, e in token_runs])
    held_by_a = {t for t in twice if any(lost_with("host-a", healed_at, r) for r in twice[t])}
    held_by_b = set(twice) - held_by_a
    assert len(held_by_a) <= 2 * CONCURRENCY and len(held_by_b) <= 2 * CONCURRENCY

    # The killed host's unfinished jobs ran again within a lease and a sweep, ahead of the
    # backlog (jobs enqueued before them were still waiting).
    unfinished = [
        token
        for token, token_runs in runs.items()
        if any(host_of[p] == killed and end is None for p, _, end in token_runs)
    ]
    assert unfinished, "the kill came when host-b ran nothing"
    rerun_after = []
    for token in unfinished:
        again = [s for p, s, _ in runs[token] if host_of[p] != killed and s > killed_at]
        rerun_after.append(min(again) - killed_at)
    rerun_by = killed_at + max(rerun_after)
    waiting_then = sum(1 for r in runs.values() if min(s for _, s, _ in r) > rerun_by)
    assert max(rerun_after) <= LEASE + 2 * SWEEP + 2.0, rerun_after
    assert waiting_then > 0, "the backlog was gone before the re-runs: nothing to be ahead of"
    after_heal = sum(1 for e in read_events(log) if e.kind == "start" and e.at > healed_at)
    a_after_heal = sum(
        1 for e in read_events(log) if e.kind == "start" and host_of[e.pid] == "host-a"
        and e.at > healed_at
    )  # fmt: skip
    assert a_after_heal > 0, "the cut-off host did not carry on after the heal"

    figures: dict[str, Any] = {
        "jobs": JOBS,
        "succeeded": JOBS,
        "executions": sum(len(r) for r in runs.values()),
        "jobs_run_more_than_once": len(twice),
        "jobs_completed_twice": len(completed_twice),
        "of_which_held_by_cut_off_host": len(held_by_a),
        "of_which_held_by_killed_host": len(held_by_b),
        "fenced_results_logged_as_lease_lost": fenced,
        "killed_host_unfinished_jobs": len(unfinished),
        "rerun_after_kill_s_max": round(max(rerun_after), 2),
        "rerun_after_kill_s_median": round(statistics.median(rerun_after), 2),
        "jobs_still_waiting_when_rerun": waiting_then,
        "cut_off_host_jobs_started_after_heal": a_after_heal,
        "jobs_started_after_heal": after_heal,
        "partition_s": round(healed_at - cut_at, 1),
        "all_done_after_heal_s": round(finished_at - healed_at, 1),
        "lease_s": LEASE,
        "sweep_s": SWEEP,
        "clock_offsets_ms": offsets,
        "test_s": round(time.monotonic() - began, 1),
    }
    print("\nmulti-host figures:", json.dumps(figures, indent=1))


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_partition_does_not_let_a_concurrency_limit_be_exceeded(
    db_url: str, two_hosts: list[Host], tmp_path: Path
) -> None:
    """A task limited to one at a time across the hosts. Host-a runs one when it is cut off;
    host-b takes it over once its lease is out, and host-a has stopped it by then: at no moment
    do two run, though the database (which counts running rows) never saw two."""
    log = tmp_path / "events.log"
    relay = Relay(("127.0.0.1", 5432))
    store = open_store(db_url)
    settings = {**SETTINGS, "limited": True}
    started: list[WorkerProcess] = []

    def start(host: Host) -> WorkerProcess:
        url = db_url.replace("127.0.0.1:5432", f"{host.link_address}:{relay.listen(host)}")
        prefix = ("ip", "netns", "exec", host.netns)
        worker = WorkerProcess(url, tmp_path, settings, 2, host.name, host.name, prefix).start()
        started.append(worker)
        worker.wait_registered(store, timeout=30)
        return worker

    try:
        host_a, host_b = two_hosts
        a = start(host_a)
        producer = apps.make_deck(db_url, limited=True)
        held = producer.get_task("held_limited")
        for token in range(2):
            held.enqueue(token=token, log=str(log), seconds=6.0)
        producer.close()
        wait_until(lambda: read_events(log), 20, "host-a to start a job")
        b = start(host_b)
        relay.cut(host_a)
        wait_until(
            store_reads(lambda: count_in(store, JobState.SUCCEEDED) == 2),
            60,
            "both jobs to succeed",
        )
        relay.heal(host_a)
        for worker in (a, b):
            worker.signal(signal.SIGTERM)
        for worker in (a, b):
            assert worker.wait(15) == 0, worker.tail()
        a_output = a.output.read_text()
    finally:
        for worker in started:
            worker.kill()
        relay.close()
        store.close()

    events = sorted(read_events(log), key=lambda e: e.at)
    running, most = 0, 0
    for event in events:
        running += 1 if event.kind == "start" else -1
        most = max(most, running)
    host_of = {w.pid: w.host for w in started}
    runs = executions(log)
    assert most == 1, [(e.kind, e.token, host_of[e.pid], e.at - events[0].at) for e in events]
    assert [host_of[pid] for pid, _, _ in sorted(runs[0], key=lambda r: r[1])] == [
        "host-a",
        "host-b",
    ], "host-b took over the job host-a held when it was cut off"
    assert "LeaseNotRenewed" in a_output, a_output[-3000:]
    print(
        "\npartition under a limit:",
        json.dumps({"executions": sum(len(r) for r in runs.values()), "most_at_once": most}),
    )
