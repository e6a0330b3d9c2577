"""Concurrency and rate limits enforced in the claim, on both stores: what a limited claim
admits, what frees a slot (completion, a rescued lease), rate slots moving held jobs, and many
claimers on their own connections never running more than a limit."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from jobdeck.states import JobState
from jobdeck.store import open_store
from jobdeck.store.base import ClaimRequest, NewJob, Store
from jobdeck.store.limiting import ClaimLimits, Rate
from tests.store.test_store import set_time, success

NOW = datetime.now(UTC).replace(microsecond=0)
MAIL = ClaimLimits(queues={"mail": 3})


def limited(store: Store, limits: ClaimLimits, n: int = 10, queue: str = "mail") -> list:
    return store.claim_jobs(ClaimRequest("w1", [queue], n, 30.0, limits=limits))


def keyed(task: str, key: str, queue: str = "mail") -> NewJob:
    return NewJob(task, labels_json=json.dumps({"concurrency_key": key}), queue=queue)


def test_a_queue_limit_caps_the_claim_and_a_completion_frees_a_slot(store: Store) -> None:
    store.insert_jobs([NewJob("send", queue="mail") for _ in range(10)])
    first = limited(store, MAIL)
    assert len(first) == 3
    assert limited(store, MAIL) == []
    assert store.limit_usage().running[("queue", "mail")] == 3
    store.complete_jobs("w1", [success(first[0])], shard=0)
    assert len(limited(store, MAIL)) == 1
    # A claim without limits is the unlimited statement: it takes what is due.
    unlimited = store.claim_jobs(ClaimRequest("w2", ["mail"], 10, 30.0))
    assert len(unlimited) == 6


def test_a_full_task_does_not_hide_the_jobs_queued_behind_it(store: Store) -> None:
    store.insert_jobs([NewJob("slow", queue="mail", priority=5) for _ in range(50)])
    store.insert_jobs([NewJob("fast", queue="mail") for _ in range(4)])
    limits = ClaimLimits(tasks={"slow": 2})
    assert [j.task for j in limited(store, limits, n=3)] == ["slow", "slow"]
    # Now that "slow" is full, the scan leaves its 48 waiting jobs out.
    assert [j.task for j in limited(store, limits, n=10)] == ["fast"] * 4


def test_a_key_limit_counts_each_key_apart(store: Store) -> None:
    store.insert_jobs([keyed("sync", "tenant:1") for _ in range(3)])
    store.insert_jobs([keyed("sync", "tenant:2") for _ in range(3)])
    store.insert_jobs([NewJob("sync", queue="mail")])  # no key: no key limit
    limits = ClaimLimits(per_key={"sync": 1})
    claimed = limited(store, limits)
    assert len(claimed) == 3
    usage = store.limit_usage().running
    assert usage[("key", "tenant:1")] == 1 and usage[("key", "tenant:2")] == 1
    assert limited(store, limits) == []


def test_a_rescued_lease_frees_its_slot(store: Store) -> None:
    clock = set_time(store, NOW)
    store.insert_jobs([NewJob("send", queue="mail") for _ in range(5)])
    dead = store.claim_jobs(ClaimRequest("dead", ["mail"], 10, 5.0, limits=MAIL))
    assert len(dead) == 3 and limited(store, MAIL) == []
    clock.advance(seconds=6)
    assert len(store.rescue_expired()) == 3
    assert len(limited(store, MAIL)) == 3


def test_a_rate_limit_moves_held_jobs_to_their_slot(store: Store) -> None:
    clock = set_time(store, NOW)
    store.insert_jobs([NewJob("call", queue="api") for _ in range(5)])
    limits = ClaimLimits(task_rates={"call": Rate.parse("10/s")})
    assert len(limited(store, limits, queue="api")) == 1
    slot = store.limit_usage().next_free["task:call"]
    assert slot == NOW + timedelta(seconds=0.1)
    assert limited(store, limits, queue="api") == []
    waiting = [store.get_job(i) for i in range(1, 6)]
    moved = [j for j in waiting if j is not None and j.state != "running"]
    assert len(moved) == 4 and all(j.run_at == slot and j.state == "scheduled" for j in moved)
    clock.advance(seconds=0.1)
    assert len(limited(store, limits, queue="api")) == 1
    clock.advance(seconds=0.05)
    assert limited(store, limits, queue="api") == []


def test_a_key_rate_limit_spaces_each_key_apart(store: Store) -> None:
    set_time(store, NOW)
    store.insert_jobs([keyed("call", "a", queue="api") for _ in range(2)])
    store.insert_jobs([keyed("call", "b", queue="api") for _ in range(2)])
    limits = ClaimLimits(key_rates={"call": Rate.parse("1/m")})
    assert len(limited(store, limits, queue="api")) == 2
    assert limited(store, limits, queue="api") == []


def test_concurrent_claimers_never_run_more_than_the_limit(store: Store, db_url: str) -> None:
    store.insert_jobs([NewJob("send", queue="mail") for _ in range(60)])
    limits = ClaimLimits(queues={"mail": 5})
    peaks: list[int] = []
    errors: list[BaseException] = []

    def claimer(worker: str) -> None:
        own = open_store(db_url)
        try:
            for _ in range(200):
                jobs = own.claim_jobs(ClaimRequest(worker, ["mail"], 3, 30.0, limits=limits))
                peaks.append(own.limit_usage().running[("queue", "mail")])
                if jobs:
                    own.complete_jobs(worker, [success(j) for j in jobs], shard=0)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert max(peaks) <= 5
    assert store.count_by_state()[JobState.SUCCEEDED] == 60
    assert store.limit_usage().running[("queue", "mail")] == 0
