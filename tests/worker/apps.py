"""Tasks the worker tests run, in an importable module: process tasks and worker subprocesses
(`jobdeck worker --app tests.worker.apps:deck`) import them by name.

Worker subprocesses take their (short) settings from ``JOBDECK_TEST_SETTINGS``, a JSON object.
Tasks that must be counted write a side-effect log: one ``start``/``end`` line per execution with
the token passed in the job's args, the process id and the wall-clock time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime
from typing import Any

from jobdeck import JobDeck, current_job

# In-process tests only: a stuck task waits on RELEASE so a test can free its thread at the end.
RELEASE = threading.Event()
STUCK: set[int] = set()
CANCELLED: list[str] = []
_lock = threading.Lock()


def echo(value: Any, summary: str | None = None) -> dict[str, Any]:
    return {"value": value, "summary": summary or f"echoed {value!r}"}


async def echo_async(value: Any) -> dict[str, Any]:
    await asyncio.sleep(0.01)
    return {"value": value, "summary": "async ok"}


def _explode(message: str) -> None:
    raise ValueError(message)


def boom(message: str = "boom") -> None:
    _explode(message)


def stuck(seconds: float = 30.0) -> str:
    """Blocks its thread until RELEASE is set (a sync task that ignores its timeout)."""
    me = threading.get_ident()
    with _lock:
        STUCK.add(me)
    try:
        RELEASE.wait(seconds)
    finally:
        with _lock:
            STUCK.discard(me)
    return "released"


async def hang_async(tag: str, seconds: float = 30.0) -> str:
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        CANCELLED.append(tag)
        raise
    return "woke up"


async def swallow_cancel(tag: str) -> str:
    """An async task that swallows every cancellation and runs until RELEASE is set."""
    while not RELEASE.is_set():
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            CANCELLED.append(tag)
    return "released"


def hang_process(pid_file: str, seconds: float = 30.0) -> str:
    """Runs in a child process (executor="process"): says who it is, then hangs."""
    with open(pid_file, "w") as file:
        file.write(str(os.getpid()))
    time.sleep(seconds)
    return "woke up"


def square(n: int) -> dict[str, Any]:
    return {"square": n * n, "pid": os.getpid()}


def bad_result() -> dict[str, Any]:
    return {"ok": True, "when": datetime.now(UTC)}


def kill_self() -> None:
    """Kills its own worker process, as the out-of-memory killer or a segfault would."""
    os.kill(os.getpid(), signal.SIGKILL)


def logged(token: int, log: str, seconds: float = 0.0, marker: str | None = None) -> dict[str, Any]:
    """Writes start/end lines to ``log``; with ``marker``, only the first execution sleeps."""
    write_event(log, "start", token)
    if marker is None:
        time.sleep(seconds)
    elif not os.path.exists(marker):
        with open(marker, "w"):
            pass
        time.sleep(seconds)
    write_event(log, "end", token)
    return {"token": token, "pid": os.getpid(), "summary": f"token {token}"}


def write_event(log: str, kind: str, token: int) -> None:
    # One write() of a short line on an O_APPEND file is atomic across processes.
    line = f"{kind} {token} {os.getpid()} {time.time():.6f}\n"
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


async def held(token: int, log: str, seconds: float = 30.0) -> str:
    """Holds its slot for ``seconds``, with a start line and an end line (written also when
    the coroutine is cancelled: the end of the execution, however it ended)."""
    write_event(log, "start", token)
    try:
        await asyncio.sleep(seconds)
    finally:
        write_event(log, "end", token)
    return "held"


def held_in_thread(token: int, log: str, seconds: float = 30.0) -> str:
    """``held`` as a sync task that checks for a stop between steps."""
    write_event(log, "start", token)
    try:
        job = current_job()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            job.check_cancelled()
            time.sleep(0.02)
    finally:
        write_event(log, "end", token)
    return "held"


def cooperative(steps: int = 3000, log: str | None = None, token: int = 0) -> str:
    """A sync task that checks for a cancel between steps and reports its progress."""
    if log:
        write_event(log, "start", token)
    job = current_job()
    for step in range(steps):
        job.check_cancelled()
        job.report_progress(step, steps, "stepping")
        time.sleep(0.01)
    return "finished"


def reporter(lines: int, steps: int = 10) -> dict[str, Any]:
    """Logs ``lines`` lines (every tenth through ``logging``) and reports ``steps`` progress."""
    job = current_job()
    for n in range(lines):
        if n % 10 == 0:
            logging.getLogger("tests.reporter").warning("through logging %d", n)
        else:
            job.log(f"line {n}")
    for step in range(1, steps + 1):
        job.report_progress(step, steps, f"step {step}")
    return {"id": job.id, "attempt": job.attempt, "labels": job.labels}


def make_deck(database_url: str | None = None, limited: bool = False, **settings: Any) -> JobDeck:
    """A deck with every test task registered under a short name; ``limited`` adds the tasks
    with limits (only then, since a deck that declares a limit claims by the limited path)."""
    new = JobDeck(database_url, **settings)
    if limited:
        new.task(name="logged_limited", concurrency=3)(logged)
        new.task(name="logged_rated", rate_limit="20/s")(logged)
        new.task(name="held_limited", concurrency=1)(held)
    new.task(name="echo")(echo)
    new.task(name="echo_async")(echo_async)
    new.task(name="boom", retry_backoff=0.05)(boom)
    new.task(name="stuck")(stuck)
    new.task(name="hang_async")(hang_async)
    new.task(name="swallow_cancel")(swallow_cancel)
    new.task(name="hang_process", executor="process")(hang_process)
    new.task(name="square", executor="process")(square)
    new.task(name="bad_result")(bad_result)
    new.task(name="kill_self")(kill_self)
    new.task(name="logged")(logged)
    new.task(name="cooperative")(cooperative)
    new.task(name="held")(held)
    new.task(name="held_in_thread")(held_in_thread)
    new.task(name="reporter")(reporter)
    return new


deck = make_deck(None, **json.loads(os.environ.get("JOBDECK_TEST_SETTINGS", "{}")))
