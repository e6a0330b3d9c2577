"""Where job code runs: a thread pool whose stuck threads can be abandoned, and an event loop."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any


class ThreadSlots:
    """Up to ``size`` working threads; a thread stuck past its job's timeout is abandoned and
    replaced, so one hung job cannot take a slot for ever (Python cannot kill a thread).

    Threads start when work finds none idle, not all at once: each costs about 19 kB of
    resident memory, and a worker with concurrency 100 whose jobs are short never needs most of
    them (issue 20). Once started a thread stays, idle, until shutdown.
    """

    def __init__(self, size: int, name: str = "jobdeck-job") -> None:
        self._work: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._abandoned: set[int] = set()
        self._lock = threading.Lock()
        self._name = name
        self._size = size
        self._live = 0  # threads running, abandoned ones included
        self._working = 0  # threads not abandoned: at most size
        self._idle = 0  # threads waiting for work
        self._queued = 0  # work submitted and not yet taken by a thread
        self.abandoned_count = 0

    def submit(self, work: Callable[[], None]) -> None:
        with self._lock:
            self._queued += 1
            spawn = self._reserve_thread()
        self._work.put(work)
        if spawn:
            self._start_thread()

    def abandon(self, thread_ident: int) -> None:
        """Give up on a thread: it exits when (if ever) its job returns; its slot is free again
        (a new thread starts at once if work is waiting)."""
        with self._lock:
            self._abandoned.add(thread_ident)
            self.abandoned_count += 1
            self._working -= 1
            spawn = self._reserve_thread()
        if spawn:
            self._start_thread()

    def shutdown(self) -> None:
        with self._lock:
            live = self._live
        for _ in range(live):
            self._work.put(None)

    def _reserve_thread(self) -> bool:
        """Under the lock: True (and counted) when queued work outnumbers the idle threads and a
        slot is free."""
        if self._queued <= self._idle or self._working >= self._size:
            return False
        self._live += 1
        self._working += 1
        return True

    def _start_thread(self) -> None:
        threading.Thread(target=self._loop, name=self._name, daemon=True).start()

    def _loop(self) -> None:
        me = threading.get_ident()
        while True:
            with self._lock:
                self._idle += 1
            work = self._work.get()
            with self._lock:
                self._idle -= 1
                if work is not None:
                    self._queued -= 1
            if work is None:
                break
            work()
            with self._lock:
                if me in self._abandoned:
                    self._abandoned.discard(me)
                    self.abandoned_count -= 1
                    break
        with self._lock:
            self._live -= 1


# At shutdown, how long tasks still on the loop get to end once cancelled.
STOP_WAIT_S = 1.0


class EventLoopThread:
    """One event loop on its own thread for every async task of the worker."""

    def __init__(self) -> None:
        import asyncio  # only workers with async tasks pay for asyncio (and ssl) in memory

        self._asyncio = asyncio
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="jobdeck-asyncio", daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, None]) -> Future[None]:
        return self._asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()

    def _run(self) -> None:
        asyncio = self._asyncio
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            # Bounded: a task that swallows its cancellation must not hold shutdown past the
            # grace period; it is left unfinished when the process exits.
            self.loop.run_until_complete(asyncio.wait(pending, timeout=STOP_WAIT_S))
