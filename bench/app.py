"""The bench deck: a no-op task and one that always fails, used by the benchmark process and
the worker subprocess.

The worker runs it as ``python -m jobdeck worker --app bench.app:deck --database URL``.
Environment hooks, read when the module is imported (only the bench sets them):

``JOBDECK_BENCH_SETTINGS``
    JSON object of worker settings for the deck, e.g. ``{"fetch_batch_max": 200}``.
``JOBDECK_BENCH_LIMITS``
    set (to anything): also register the limited tasks of ``bench/limits.py``. Only then: a
    deck that declares a limit claims by the limited path, and the drain measures the other.
``JOBDECK_BENCH_MODULES``
    a file path: at exit, write the names in ``sys.modules`` there, one per line.
``JOBDECK_BENCH_CPROFILE``
    a file path: profile every thread with cProfile and dump the merged stats there at exit
    (the fallback when py-spy is not available; it slows the worker down several times).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Any

from jobdeck import JobDeck, PermanentFailure, current_job

NOOP_TASK = "bench.noop"
REPORTING_TASK = "bench.reporting"  # reports progress and a log line: the drain_reporting workload
FAIL_TASK = "bench.fail"  # bench/failures_drain.py: every run raises, ids in the message
SLOT_TASK = "bench.slot"  # at most SLOT_LIMIT at once, across every worker
RATED_TASK = "bench.rated"  # at most RATE starts per second, across every worker
SLOT_LIMIT = 5
RATE = 100


def settings_from_env() -> dict[str, Any]:
    text = os.environ.get("JOBDECK_BENCH_SETTINGS", "").strip()
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise SystemExit("JOBDECK_BENCH_SETTINGS must be a JSON object")
    return value


def make_deck(database_url: str | None = None, **settings: Any) -> JobDeck:
    """A deck with the no-op task registered; ``settings`` override the environment's."""
    new = JobDeck(database_url, **{**settings_from_env(), **settings})

    @new.task(name=NOOP_TASK)
    def noop() -> None:
        return None

    @new.task(name=FAIL_TASK, max_attempts=1)
    def fail(n: int = 0) -> None:
        # PermanentFailure: out of attempts without an "exhausted" alert per job, whose
        # store write and delivery would be what this drain measured.
        raise PermanentFailure(f"no invoice {n} for customer {n * 7 % 1000}")

    if os.environ.get("JOBDECK_BENCH_LIMITS"):
        new.task(name=SLOT_TASK, concurrency=SLOT_LIMIT)(record_run)
        new.task(name=RATED_TASK, rate_limit=f"{RATE}/s")(record_run)

    @new.task(name=REPORTING_TASK)
    def reporting() -> None:
        job = current_job()
        job.report_progress(1, 1, "done")
        job.log("done")

    return new


def record_run(log: str, seconds: float = 0.0) -> None:
    """Append "<start> <end>" (wall clock) to ``log``: one short O_APPEND write is atomic
    across processes, so every worker's runs land whole in one file."""
    begun = time.time()
    if seconds:
        time.sleep(seconds)
    line = f"{begun:.6f} {time.time():.6f}\n"
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


deck = make_deck()


def _write_modules_at_exit(path: str) -> None:
    def write() -> None:
        with open(path, "w", encoding="utf-8") as out:
            out.write("\n".join(sorted(sys.modules)) + "\n")

    atexit.register(write)


def _profile_threads_at_exit(path: str) -> None:
    import cProfile
    import pstats

    finished: list[cProfile.Profile] = []
    lock = threading.Lock()
    original_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            original_run(self)
        finally:
            profiler.disable()
            with lock:
                finished.append(profiler)

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    main = cProfile.Profile()
    main.enable()

    def dump() -> None:
        main.disable()
        with lock:
            profiles = [main, *finished]
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)

    atexit.register(dump)


if os.environ.get("JOBDECK_BENCH_MODULES"):
    _write_modules_at_exit(os.environ["JOBDECK_BENCH_MODULES"])
if os.environ.get("JOBDECK_BENCH_CPROFILE"):
    _profile_threads_at_exit(os.environ["JOBDECK_BENCH_CPROFILE"])
