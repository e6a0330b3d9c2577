"""Test helpers for workers: deadline polling, in-thread workers, worker subprocesses, and the
side-effect log the test tasks write."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from jobdeck import JobDeck
from jobdeck.clock import Clock
from jobdeck.errors import JobDeckError
from jobdeck.states import JobState
from jobdeck.store.base import JobFilter, JobRow, Store
from jobdeck.worker import Worker
from tests import pgtools

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# Short timings for in-process workers (DESIGN.md: tests use seconds, not the 45 s default).
FAST: dict[str, Any] = {
    "heartbeat_interval": 0.2,
    "lease_duration": 1.0,
    "rescue_interval": 0.3,
    "poll_interval": 0.05,
    "backoff_base": 0.05,
    "shutdown_grace": 2.0,
    "concurrency": 4,
}


def wait_until(
    predicate: Callable[[], T], timeout: float, message: str = "", interval: float = 0.02
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail the test past ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message or predicate}")
        time.sleep(interval)


def jobs_in(store: Store, *states: JobState, limit: int = 10_000) -> list[JobRow]:
    filters = JobFilter(states=frozenset(states) if states else None)
    return store.list_jobs(filters, None, limit)


def count_in(store: Store, *states: JobState) -> int:
    return store.count_jobs(JobFilter(states=frozenset(states) if states else None))


def all_final(store: Store, total: int, state: JobState = JobState.SUCCEEDED) -> bool:
    return count_in(store, state) == total


@contextmanager
def running_worker(deck: JobDeck, clock: Clock | None = None, **overrides: Any) -> Iterator[Worker]:
    """A worker on a thread (``run(install_signals=False)``), stopped and joined on exit;
    ``clock`` stands for its host's clock (the store keeps the deck's)."""
    worker = deck.worker(**overrides)
    if clock is not None:
        worker.clock = clock
    errors: list[BaseException] = []

    def target() -> None:
        try:
            worker.run(install_signals=False)
        except BaseException as exc:  # reported to the test below, not as a thread warning
            errors.append(exc)

    thread = threading.Thread(target=target, name="test-worker", daemon=True)
    thread.start()
    wait_until(lambda: worker.wait_started(0.05) or errors, 10, "worker start")
    if errors:
        thread.join(5)
        raise errors[0]
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(20)
        assert not thread.is_alive(), "worker thread did not stop"
    if errors:
        raise errors[0]


class HostClock:
    """A host's clock, ``skew`` seconds off the real one (which the database here reads)."""

    def __init__(self, skew: float) -> None:
        self.skew = timedelta(seconds=skew)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.skew


# -- the side-effect log -------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    kind: str  # start or end
    token: int
    pid: int
    at: float  # time.time()


def read_events(log: Path) -> list[Event]:
    if not log.exists():
        return []
    events = []
    for line in log.read_text().splitlines():
        kind, token, pid, at = line.split()
        events.append(Event(kind, int(token), int(pid), float(at)))
    return events


def starts(log: Path) -> Counter[int]:
    return Counter(e.token for e in read_events(log) if e.kind == "start")


def executions(log: Path) -> dict[int, list[tuple[int, float, float | None]]]:
    """Per token, each execution as (pid, start, end); end is None if it never finished."""
    open_runs: dict[tuple[int, int], list[float]] = defaultdict(list)
    runs: dict[int, list[tuple[int, float, float | None]]] = defaultdict(list)
    for event in sorted(read_events(log), key=lambda e: e.at):
        key = (event.token, event.pid)
        if event.kind == "start":
            open_runs[key].append(event.at)
        else:
            runs[event.token].append((event.pid, open_runs[key].pop(0), event.at))
    for (token, pid), pending in open_runs.items():
        runs[token].extend((pid, begun, None) for begun in pending)
    return runs


# -- worker subprocesses -------------------------------------------------------------------------


class WorkerProcess:
    """``python -m jobdeck worker --app tests.worker.apps:deck`` with its output in a file."""

    def __init__(
        self,
        db_url: str,
        folder: Path,
        settings: dict[str, Any],
        concurrency: int = 4,
        name: str = "worker",
        host: str | None = None,
        prefix: tuple[str, ...] = (),
        args: tuple[str, ...] = (),
    ) -> None:
        self.db_url = db_url
        self.args = args  # more options of jobdeck worker
        self.settings = settings
        self.concurrency = concurrency
        self.output = folder / f"{name}.log"
        self.host = host  # jobdeck worker --name
        self.prefix = prefix  # e.g. ("ip", "netns", "exec", "ns1"): it must exec, not fork
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        env = {**os.environ, "JOBDECK_TEST_SETTINGS": json.dumps(self.settings)}
        env.pop("JOBDECK_DATABASE_URL", None)
        command = [
            *self.prefix,
            sys.executable,
            "-m",
            "jobdeck",
            "worker",
            "--app",
            "tests.worker.apps:deck",
            "--database",
            self.db_url,
            "--concurrency",
            str(self.concurrency),
            *(("--name", self.host) if self.host else ()),
            *self.args,
        ]
        with self.output.open("ab") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def worker_prefix(self) -> str:
        """The start of this process's worker id (host:pid:random)."""
        return f"{self.host or socket.gethostname()}:{self.pid}:"

    def holds(self, job: JobRow) -> bool:
        return self.holds_id(job.worker_id)

    def holds_id(self, worker_id: str | None) -> bool:
        return worker_id is not None and worker_id.startswith(self.worker_prefix)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"worker {self.pid} still running after {timeout} s\n{self.tail()}"
            ) from None

    def wait_registered(self, store: Store, timeout: float = 15.0) -> None:
        def registered() -> bool:
            if not self.alive():
                raise AssertionError(f"worker exited early\n{self.tail()}")
            return any(w.pid == self.pid and w.state == "running" for w in store.list_workers())

        wait_until(registered, timeout, f"worker {self.pid} to register")

    def kill(self) -> None:
        if self.alive():
            self.signal(signal.SIGKILL)
            self.wait(10)

    def tail(self, lines: int = 40) -> str:
        if not self.output.exists():
            return ""
        return "\n".join(self.output.read_text(errors="replace").splitlines()[-lines:])


class Processes:
    """Worker subprocesses of one test; all killed at teardown."""

    def __init__(self, db_url: str, folder: Path) -> None:
        self.db_url = db_url
        self.folder = folder
        self.started: list[WorkerProcess] = []

    def start(self, settings: dict[str, Any], concurrency: int = 4) -> WorkerProcess:
        name = f"worker{len(self.started)}"
        proc = WorkerProcess(self.db_url, self.folder, settings, concurrency, name).start()
        self.started.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.started:
            if proc.alive():
                # A stopped process must be continued for anything but SIGKILL to reach it.
                proc.signal(signal.SIGCONT)
            proc.kill()

    def tails(self) -> str:
        return "\n".join(f"--- {p.output.name} (pid {p.pid})\n{p.tail()}" for p in self.started)


def database_has_open_write(db_url: str) -> bool:
    """True if some connection holds a write transaction open (a stopped process could)."""
    if db_url.startswith("sqlite:"):
        path = db_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path, timeout=0.3, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() "
            "AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
        ).fetchone()
        return bool(row and row[0])


def statements_in_flight_done(db_url: str) -> bool:
    """True once no other connection runs a statement: one a killed worker sent just before it
    died still commits on a PostgreSQL server (SQLite's die with their process)."""
    if db_url.startswith("sqlite:"):
        return True
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active'"
        ).fetchone()
        return not (row and row[0])


def stop_between_writes(proc: WorkerProcess, db_url: str, tries: int = 20) -> None:
    """SIGSTOP ``proc`` at a moment it holds no open write transaction.

    A process frozen inside a transaction would block every other worker on its locks until it
    is continued; that is a different failure from the one a test of leases wants to show.
    """
    for _ in range(tries):
        proc.signal(signal.SIGSTOP)
        # The stop is delivered asynchronously: wait until the kernel says so.
        wait_until(lambda: _process_state(proc.pid) == "T", 5, "SIGSTOP to take effect")
        if not database_has_open_write(db_url):
            return
        proc.signal(signal.SIGCONT)
        time.sleep(0.05)  # let it finish the transaction it was in before trying again
    raise AssertionError("could not stop the worker outside a write transaction")


def _process_state(pid: int) -> str:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return "gone"
    return fields[0]


def process_gone(pid: int) -> bool:
    return _process_state(pid) in ("gone", "Z", "X")


@contextmanager
def blank_database(dialect: str, folder: Path) -> Iterator[str]:
    """The URL of an empty, never migrated database (PostgreSQL: created and dropped here)."""
    if dialect == "sqlite":
        yield f"sqlite:///{folder / 'blank.db'}"
        return
    name = f"jd_blank_{uuid.uuid4().hex[:12]}"
    pgtools.create_database(name, "template0")
    try:
        yield pgtools.url_for(name)
    finally:
        pgtools.drop_database(name)


def store_reads(predicate: Callable[[], bool]) -> Callable[[], bool]:
    """A predicate that counts a store that is momentarily unavailable as 'not yet'."""

    def guarded() -> bool:
        try:
            return predicate()
        except JobDeckError:
            return False

    return guarded


# -- a failing disk ------------------------------------------------------------------------------


@contextmanager
def small_disk(folder: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``folder/disk`` for one test (root only), unmounted after.

    Skipped where it cannot be mounted, except under CI=true, where that fails the test.
    """
    import pytest

    mount = folder / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        reason = f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (required under CI=true)")
        pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@contextmanager
def ext4_disk(folder: Path, size_mb: int = 16) -> Iterator[Path]:
    """An ext4 file system in a loop-mounted image at ``folder/disk`` (root only), for files
    made immutable (``chattr +i``): ext4 then refuses writes even through descriptors a
    process opened before, as tmpfs does not. Skipped (failed under CI=true) where it cannot
    be made."""
    import pytest

    image, mount = folder / "disk.img", folder / "disk"
    mount.mkdir()
    with image.open("wb") as out:
        out.truncate(size_mb << 20)
    steps = (["mkfs.ext4", "-q", "-F", str(image)], ["mount", "-o", "loop", str(image), str(mount)])
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True)
        except FileNotFoundError as exc:
            done = subprocess.CompletedProcess(step, 127, "", str(exc))
        if done.returncode != 0:
            reason = f"cannot make a loop-mounted ext4 here ({step[0]}: {done.stderr.strip()})"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{reason} (required under CI=true)")
            pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """``chattr +i`` on ``paths`` for the block: every write to them fails (EPERM), as a disk
    I/O error in SQLite, until ``chattr -i``."""
    subprocess.run(["chattr", "+i", *map(str, paths)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


@contextmanager
def disk_full(mount: Path, db_path: Path | None = None) -> Iterator[None]:
    """Fill ``mount`` to the last byte until the block ends, then free it.

    With ``db_path``, its write-ahead log is emptied first (a TRUNCATE checkpoint): a log that
    already has room takes new frames without allocating, so a full disk would go unnoticed.
    """
    if db_path is not None:
        conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        size = 1 << 20
        while size:  # big writes until one fails, then smaller ones for what is left
            try:
                os.write(fd, b"\0" * size)
            except OSError:
                size //= 2
    finally:
        os.close(fd)
    try:
        yield
    finally:
        filler.unlink()
