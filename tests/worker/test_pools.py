"""ThreadSlots: threads start when work finds none idle, never more than the slots, and an
abandoned thread's slot takes new work."""

from __future__ import annotations

import threading

from jobdeck.worker.pools import ThreadSlots
from tests.worker.helpers import wait_until


def job_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_no_thread_starts_before_work_and_idle_threads_are_reused() -> None:
    slots = ThreadSlots(10, name="slots-reuse")
    try:
        assert job_threads("slots-reuse") == []
        for _ in range(20):  # one at a time: the same idle thread takes each
            done = threading.Event()
            slots.submit(done.set)
            assert done.wait(5)
            # the pool's own count: a submit before the thread waits again would start another
            wait_until(lambda: slots._idle == 1, 5, "the thread to wait for work again")
        assert len(job_threads("slots-reuse")) == 1
    finally:
        slots.shutdown()


def test_busy_threads_grow_to_the_slots_and_no_further() -> None:
    slots = ThreadSlots(3, name="slots-cap")
    release = threading.Event()
    started = threading.Semaphore(0)

    def hold() -> None:
        started.release()
        release.wait(10)

    try:
        for _ in range(5):
            slots.submit(hold)
        for _ in range(3):
            assert started.acquire(timeout=5)
        assert not started.acquire(timeout=0.2)  # the other two wait for a free slot
        assert len(job_threads("slots-cap")) == 3
        release.set()
        for _ in range(2):
            assert started.acquire(timeout=5)
        assert len(job_threads("slots-cap")) == 3
    finally:
        release.set()
        slots.shutdown()


def test_an_abandoned_threads_slot_runs_the_waiting_work() -> None:
    slots = ThreadSlots(1, name="slots-abandon")
    stuck, unstick = threading.Event(), threading.Event()
    idents: list[int] = []

    def hang() -> None:
        idents.append(threading.get_ident())
        stuck.set()
        unstick.wait(10)

    ran = threading.Event()
    try:
        slots.submit(hang)
        assert stuck.wait(5)
        slots.submit(ran.set)
        assert not ran.wait(0.2)  # the only slot is taken
        slots.abandon(idents[0])
        assert ran.wait(5)  # a new thread took it
        assert slots.abandoned_count == 1
        unstick.set()
        wait_until(lambda: slots.abandoned_count == 0, 5, "the abandoned thread to exit")
    finally:
        unstick.set()
        slots.shutdown()
