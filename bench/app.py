"""The bench deck: one no-op task, used by the benchmark process and the worker subprocess.

The worker runs it as ``python -m jobdeck worker --app bench.app:deck --database URL``.
Environment hooks, read when the module is imported (only the bench sets them):

``JOBDECK_BENCH_SETTINGS``
    JSON object of worker settings for the deck, e.g. ``{"fetch_batch_max": 200}``.
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
from typing import Any

from jobdeck import JobDeck, current_job

NOOP_TASK = "bench.noop"
REPORTING_TASK = "bench.reporting"  # reports progress and a log line: the drain_reporting workload


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

    @new.task(name=REPORTING_TASK)
    def reporting() -> None:
        job = current_job()
        job.report_progress(1, 1, "done")
        job.log("done")

    return new


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
