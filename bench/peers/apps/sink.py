"""What the benchmark's tasks write, so every system is timed by the same clock and code.

The harness points ``PEERS_SINK`` at an empty folder before it starts a worker. Then:

``hit()`` (the body of every no-op task)
    appends one byte to ``count`` (one ``write`` on an ``O_APPEND`` file: atomic, so forked
    pool children and threads may share it) and, the first time in each process, writes the
    wall-clock time to ``start.<pid>``. The earliest ``start.*`` is when the drain began; the size
    of ``count`` is how many task bodies ran (a cross-check on the system's own state, and the
    completion signal for systems that keep none).
``ping(t0)`` (the body of the latency task)
    appends ``"<t0> <now>\\n"`` to ``latency``; ``t0`` is ``time.time()`` taken by the enqueuing
    process just before its enqueue call, so the difference is enqueue-to-start.

Without ``PEERS_SINK`` both are no-ops. Cost per call: one ``getpid`` and one ``write`` (~2 us).
"""

from __future__ import annotations

import os
import threading
import time

_SINK = os.environ.get("PEERS_SINK", "")
_pid = 0
_count_fd = -1
_latency_fd = -1
_lock = threading.Lock()  # worker threads may make their first call at the same moment


def _open_for(pid: int) -> None:
    with _lock:
        if pid != _pid:
            _open_locked(pid)


def _open_locked(pid: int) -> None:
    global _pid, _count_fd, _latency_fd
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    _count_fd = os.open(os.path.join(_SINK, "count"), flags, 0o644)
    _latency_fd = os.open(os.path.join(_SINK, "latency"), flags, 0o644)
    temp = os.path.join(_SINK, f"tmp-start.{pid}")
    with open(temp, "w", encoding="ascii") as out:
        out.write(repr(time.time()))
    os.replace(temp, os.path.join(_SINK, f"start.{pid}"))  # never seen half-written
    _pid = pid  # set last: a fork between the lines above opens again in the child


def hit() -> None:
    if not _SINK:
        return
    pid = os.getpid()
    if pid != _pid:  # first call in this process (or a forked pool child)
        _open_for(pid)
    os.write(_count_fd, b".")


def ping(t0: float) -> None:
    if not _SINK:
        return
    now = time.time()
    pid = os.getpid()
    if pid != _pid:
        _open_for(pid)
    os.write(_latency_fd, f"{t0!r} {now!r}\n".encode())
