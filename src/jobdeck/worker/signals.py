"""SIGTERM and SIGINT, handled off the main thread so that stopping can never deadlock."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType


class SignalWatch:
    """SIGTERM and SIGINT handled on a thread of their own.

    A Python signal handler runs on the main thread between two of its bytecodes, maybe
    while that thread holds a lock that stopping needs (the store's wake-up channel, an
    Event's condition): calling ``stop`` there can deadlock. So the handler only writes the
    signal's number to a pipe, and this thread reads it and calls ``on_signal``.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, on_signal: Callable[[int], None]) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._on_signal = on_signal
        self._thread = threading.Thread(target=self._watch, name="jobdeck-signals", daemon=True)
        self._thread.start()
        self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):  # a full pipe: a signal is already pending
            os.write(self._write, bytes([signum]))

    def _watch(self) -> None:
        while data := os.read(self._read, 1):
            self._on_signal(data[0])
        os.close(self._read)

    def close(self) -> None:
        """Give the signals back, then end the thread (EOF on the pipe)."""
        for sig, previous in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)
        os.close(self._write)
        self._thread.join(5)
