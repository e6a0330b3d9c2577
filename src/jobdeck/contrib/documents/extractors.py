"""Where extraction runs: in a few long-lived child processes (default) or in the calling thread.

pypdf is pure Python: a 300-page PDF holds the GIL for seconds, and in a worker's thread pool
that slows every other job and the heartbeat with it. A child process runs it on another core,
can be killed when a hostile file makes it spin (a hard timeout), and has its memory capped
against decompression bombs. Children are started once and reused, so a small document costs
a pipe round trip, not a process start (bench/documents.py measures both modes).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol

from jobdeck.contrib.documents.extract import Extracted, ExtractionFailed, ExtractOptions, extract
from jobdeck.logs import prepare_child

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess


class Extractor(Protocol):
    def run(self, data: bytes, options: ExtractOptions) -> Extracted: ...
    def close(self) -> None: ...


class InlineExtractor:
    """Extract in the calling thread: no isolation and no hard timeout; for tests and tiny loads."""

    def run(self, data: bytes, options: ExtractOptions) -> Extracted:
        return extract(data, options)

    def close(self) -> None:
        return None


class ChildTraceback(Exception):
    """The traceback of an error raised in an extractor process, shown as the cause."""


class ExtractorPool:
    """Up to ``processes`` extractor processes, started on demand and reused.

    A call that outlives ``timeout`` kills its own child only (the others keep working) and
    fails with a reason; a child that dies is replaced on the next call.
    """

    def __init__(
        self, processes: int = 2, timeout: float = 120.0, memory_limit_mb: int | None = 2048
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.processes = processes
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        self._idle: list[_Child] = []
        self._count = 0
        self._closed = False
        self._free = threading.Condition()

    def run(self, data: bytes, options: ExtractOptions) -> Extracted:
        child = self._checkout()
        healthy = False
        try:
            try:
                child.conn.send((data, options))
                if not child.conn.poll(self.timeout):
                    raise ExtractionFailed(
                        "extraction_timeout",
                        f"extraction took longer than {self.timeout:g} s and was stopped: the "
                        "file may be damaged or unusually complex; save it again (or print it "
                        "to PDF) and upload the new file",
                    )
                ok, payload = child.conn.recv()
            except (EOFError, OSError):
                child.process.join(1)
                raise ExtractionFailed(
                    "extraction_crashed",
                    f"the extractor process died reading this file (exit code "
                    f"{child.process.exitcode}): the file may be damaged or too large to "
                    "process; save it again and upload the new file",
                ) from None
            healthy = True
        finally:
            self._checkin(child, healthy)
        if ok:
            result: Extracted = payload
            return result
        error, trace = payload
        raise error from ChildTraceback(trace)

    def _checkout(self) -> _Child:
        with self._free:
            while True:
                if self._closed:
                    raise RuntimeError("the extractor pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.processes:
                    self._count += 1
                    break
                self._free.wait()
        try:
            return _Child.start(self.memory_limit_mb)
        except BaseException:
            with self._free:
                self._count -= 1
                self._free.notify()
            raise

    def _checkin(self, child: _Child, healthy: bool) -> None:
        with self._free:
            if healthy and not self._closed:
                self._idle.append(child)
            else:
                self._count -= 1
            self._free.notify()
        if not healthy or self._closed:
            child.kill()

    def close(self) -> None:
        with self._free:
            self._closed = True
            idle, self._idle = self._idle, []
            self._free.notify_all()
        for child in idle:
            child.stop()


class _Child:
    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    @classmethod
    def start(cls, memory_limit_mb: int | None) -> _Child:
        # Imported here: a worker that never extracts does not load multiprocessing at all.
        import multiprocessing

        # forkserver: forking a process that runs threads (every worker does) is unsafe.
        context = multiprocessing.get_context("forkserver")
        ours, theirs = context.Pipe()
        log_level = logging.getLogger().getEffectiveLevel()
        process = context.Process(
            target=serve,
            args=(theirs, memory_limit_mb, log_level),
            name="jobdeck-extract",
            daemon=True,
        )
        process.start()
        theirs.close()
        return cls(process, ours)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(2)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(2)
        self.conn.close()
        self.process.close()


def serve(conn: Connection, memory_limit_mb: int | None, log_level: int = logging.WARNING) -> None:
    """An extractor process: answer (ok, result) or (False, (error, traceback)) per request."""
    import traceback

    prepare_child(log_level)  # pypdf logs about damaged files

    if memory_limit_mb:
        import resource

        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # The parsers load once per process, not inside the first document's time.
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        data, options = request
        try:
            answer: tuple[bool, Any] = (True, extract(data, options))
        except MemoryError:
            limit_text = f"{memory_limit_mb} MB" if memory_limit_mb else "the available memory"
            failure = ExtractionFailed(
                "too_complex",
                f"extracting this file needed more than {limit_text}: it may be a "
                "decompression bomb or far too large; upload a smaller file",
            )
            answer = (False, (failure, traceback.format_exc()))
        except ExtractionFailed as exc:
            answer = (False, (exc, traceback.format_exc()))
        except Exception as exc:
            answer = (False, (RuntimeError(f"{type(exc).__name__}: {exc}"), traceback.format_exc()))
        conn.send(answer)
