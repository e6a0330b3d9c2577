"""Wake-ups between the processes and threads that share one SQLite file.

SQLite has no LISTEN/NOTIFY. Each waiting worker process binds a Unix datagram socket in a
folder named after the database file; whoever commits new work sends one byte to every socket
there. A waiter blocked in ``select`` wakes within microseconds instead of at its next poll of
``PRAGMA data_version`` (which stays as the fallback, for writers that do not ring and for
systems without Unix sockets). A lost or refused datagram costs only that poll's delay.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import select
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

from jobdeck.digests import sha1_hex

# Listing the folder on every ring would cost a syscall per enqueue; a new listener is found
# within this many seconds (and waits on the data_version poll until then).
_RESCAN_S = 1.0


class WakeChannel:
    """Ring every waiting process of one database; let this process wait for a ring."""

    def __init__(self, db_path: Path) -> None:
        digest = sha1_hex(str(db_path).encode())[:16]
        self.folder = Path(tempfile.gettempdir()) / f"jobdeck-wake-{digest}"
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._listener_path: Path | None = None
        self._owner_pid = 0
        self._sender: socket.socket | None = None
        self._peers: list[str] = []
        self._scanned_at = float("-inf")
        atexit.register(self.close)

    # -- waiting -------------------------------------------------------------------------------

    def listener(self) -> socket.socket | None:
        """This process's socket, bound on first use; None where Unix sockets are unavailable."""
        with self._lock:
            if self._listener is not None and self._owner_pid == os.getpid():
                return self._listener
            if self._listener is not None:
                self._listener.close()  # a forked child's copy: the parent keeps its socket
            try:
                self._listener = self._bind()
            except OSError:
                self._listener = None
            return self._listener

    def _bind(self) -> socket.socket:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        path = self.folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(str(path))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._listener_path = path
        self._owner_pid = os.getpid()
        self._scanned_at = float("-inf")  # ring ourselves too from now on
        return sock

    @staticmethod
    def wait(listener: socket.socket, timeout: float) -> bool:
        """True when a ring arrived within ``timeout``; every queued ring is consumed."""
        readable, _, _ = select.select([listener], [], [], max(0.0, timeout))
        if not readable:
            return False
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while listener.recv(16):
                pass
        return True

    # -- ringing -------------------------------------------------------------------------------

    def ring(self) -> None:
        """Wake every listener of this database; never raises (a missed ring only delays)."""
        with self._lock, contextlib.suppress(OSError):
            self._ring_locked()

    def _ring_locked(self) -> None:
        if self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        now = time.monotonic()
        if now - self._scanned_at > _RESCAN_S:
            self._peers = self._scan()
            self._scanned_at = now
        for peer in list(self._peers):
            self._send(peer)

    def _scan(self) -> list[str]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return [str(self.folder / name) for name in names if name.endswith(".sock")]

    def _send(self, peer: str) -> None:
        assert self._sender is not None
        try:
            self._sender.sendto(b"!", peer)
        except BlockingIOError:
            pass  # its queue is full of rings already: it is awake
        except OSError as exc:
            if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
                # Nobody is bound there any more: a process that died without cleaning up.
                self._peers.remove(peer)
                with contextlib.suppress(OSError):
                    os.unlink(peer)

    def close(self) -> None:
        with self._lock:
            for sock in (self._listener, self._sender):
                if sock is not None:
                    sock.close()
            if self._listener_path is not None and self._owner_pid == os.getpid():
                with contextlib.suppress(OSError):
                    self._listener_path.unlink()
                with contextlib.suppress(OSError):
                    self.folder.rmdir()  # only when no other process listens here
            self._listener = self._sender = None
            self._listener_path = None


class Wakeups:
    """Per database file in this process: wake-ups (an enqueue here wakes this process's
    waiting workers at once) and the write lock (threads of one process queue here, woken
    the moment the lock is free, instead of sleeping in SQLite's busy handler)."""

    def __init__(self, path: Path) -> None:
        self.condition = threading.Condition()
        self.generation = 0
        self.write_lock = threading.RLock()
        self.channel = WakeChannel(path)  # and the other processes' workers

    def notify(self) -> None:
        with self.condition:
            self.generation += 1
            self.condition.notify_all()
        self.channel.ring()

    def current(self) -> int:
        with self.condition:
            return self.generation

    def wait(self, since: int, timeout: float) -> bool:
        """True once woken after generation ``since``: by a ring on this process's socket, or
        by a notify here (it rings too, but another thread waiting here may take that ring).
        Without a socket, the condition alone is waited on."""
        listener = self.channel.listener()
        if listener is not None and self.channel.wait(listener, timeout):
            return True
        with self.condition:
            if listener is None and self.generation == since:
                self.condition.wait(timeout)
            return self.generation != since


_wakeups_by_path: dict[Path, Wakeups] = {}
_wakeups_lock = threading.Lock()


def wakeups_for(path: Path) -> Wakeups:
    """The one Wakeups of this process for the database file at ``path``."""
    with _wakeups_lock:
        if path not in _wakeups_by_path:
            _wakeups_by_path[path] = Wakeups(path)
        return _wakeups_by_path[path]
