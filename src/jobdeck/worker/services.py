"""The lifecycle every background activity shares: start, one tick per interval, stop."""

from __future__ import annotations

import logging
import threading
import time

from jobdeck.errors import JobDeckError

log = logging.getLogger("jobdeck.worker")


class Looper:
    """Runs ``tick()`` every ``interval`` seconds on its own thread until stopped.

    A tick that fails is logged once per streak and retried on the next interval, so a lost
    database slows a service down instead of killing it. ``wait_ticks`` is the hook tests use.
    """

    name = "service"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.ticks = 0
        self.failing = False
        self._stop = threading.Event()
        self._ticked = threading.Condition()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"jobdeck-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wake(self) -> None:
        """End a wait of ``tick`` that ``rest`` does not cover; ``stop`` calls it once
        ``stopping`` is set."""

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def rest(self, seconds: float) -> None:
        """Sleep within a tick, waking at once when the service is stopped."""
        self._stop.wait(seconds)

    def wait_ticks(self, count: int, timeout: float) -> bool:
        """Block until ``count`` more ticks have run; False on timeout."""
        with self._ticked:
            target = self.ticks + count
            return self._ticked.wait_for(lambda: self.ticks >= target, timeout)

    def run_once(self) -> None:
        """One tick with the same error handling as the loop."""
        try:
            self.tick()
            if self.failing:
                log.info("%s: recovered", self.name)
            self.failing = False
        except (JobDeckError, OSError) as exc:
            if not self.failing:
                log.warning("%s: %s (will keep retrying)", self.name, exc)
            self.failing = True
        except Exception:
            log.exception("%s: unexpected error (will keep retrying)", self.name)
            self.failing = True
        with self._ticked:
            self.ticks += 1
            self._ticked.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.run_once()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
