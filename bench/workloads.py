"""The five core workloads; each measures one thing on a fresh database and returns figures.

Every function takes a :class:`~bench.targets.Target` and a :class:`Config` and returns a flat
dict of numbers, so repeats can be reduced to medians and written to JSON as they are.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.app import NOOP_TASK, REPORTING_TASK, make_deck
from bench.targets import Probe, Target

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    jobs: int = 20_000
    chunk: int = 1_000  # jobs per enqueue_many call in the bulk workload
    concurrency: int = 100
    latency_jobs: int = 300
    latency_rate: float = 50.0  # jobs per second
    settings: dict[str, Any] = field(default_factory=dict)  # worker settings for bench.app
    poll: float = 0.01  # how often the bench looks at the store while waiting
    drain_timeout: float = 180.0


class BenchError(RuntimeError):
    pass


# -- the worker subprocess -----------------------------------------------------------------------


class WorkerProcess:
    """``python -m jobdeck worker --app bench.app:deck`` as a subprocess of the bench."""

    def __init__(
        self,
        url: str,
        config: Config,
        *,
        extra_env: Mapping[str, str] | None = None,
        wrap: Sequence[str] = (),
        python_args: Sequence[str] = (),
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_BENCH_")}
        env["JOBDECK_BENCH_SETTINGS"] = json.dumps(config.settings)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        env.update(extra_env or {})
        command = [
            *wrap,
            sys.executable,
            *python_args,
            "-m",
            "jobdeck",
            "worker",
            "--app",
            "bench.app:deck",
            "--database",
            url,
            "--concurrency",
            str(config.concurrency),
            "--log-level",
            "WARNING",
        ]
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="jd_bench_worker_", suffix=".log", delete=False
        )
        self.started = time.time()
        self.proc = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise BenchError(f"worker exited with code {self.proc.returncode}:\n{self.log_tail()}")

    def status_kb(self, field_name: str) -> int:
        """A ``/proc/<pid>/status`` memory figure (VmHWM, VmRSS) in kB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1])
        raise BenchError(f"no {field_name} in /proc/{self.pid}/status")

    def cpu_seconds(self) -> float:
        """User + system CPU time the worker has used so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (the worker drains and exits); SIGKILL if it does not within ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        code = self.proc.returncode
        if code == 0:
            Path(self.log.name).unlink(missing_ok=True)
        return code


def wait_until(what: str, check: Any, timeout: float, poll: float, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        worker.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(
                f"timed out after {timeout:g} s waiting for {what}; worker log:\n"
                + worker.log_tail()
            )
        time.sleep(poll)


# -- workloads -----------------------------------------------------------------------------------


def queue_noop_jobs(url: str, jobs: int, chunk: int, task_name: str = NOOP_TASK) -> None:
    deck = make_deck(url)
    task = deck.tasks[task_name]
    for start in range(0, jobs, chunk):
        task.enqueue_many([{}] * min(chunk, jobs - start))
    deck.close()


def _check_count(probe: Probe, state: str, expected: int) -> None:
    found = probe.count_state(state)
    if found != expected:
        raise BenchError(f"expected {expected} {state} jobs, found {found}")


def enqueue_single(target: Target, config: Config) -> dict[str, float]:
    """``task.enqueue()`` ``jobs`` times from one thread: one transaction per job."""

    def one_at_a_time(task: Any) -> None:
        for _ in range(config.jobs):
            task.enqueue()

    seconds = _timed_enqueue(target, one_at_a_time, config.jobs)
    return {"jobs_per_s": config.jobs / seconds, "seconds": seconds}


def enqueue_bulk(target: Target, config: Config) -> dict[str, float]:
    """``task.enqueue_many()`` in chunks of ``config.chunk`` jobs."""
    empty: dict[str, Any] = {}
    chunks = [
        [empty] * min(config.chunk, config.jobs - s) for s in range(0, config.jobs, config.chunk)
    ]

    def in_chunks(task: Any) -> None:
        for kwargs_list in chunks:
            task.enqueue_many(kwargs_list)

    seconds = _timed_enqueue(target, in_chunks, config.jobs)
    return {"jobs_per_s": config.jobs / seconds, "seconds": seconds, "chunk": config.chunk}


def _timed_enqueue(target: Target, enqueue: Callable[[Any], None], expected: int) -> float:
    """Seconds ``enqueue(task)`` takes on a fresh database, checked to leave ``expected`` jobs."""
    url = target.fresh()
    deck = make_deck(url)
    try:
        deck.store.check_schema()  # open the connection outside the timing
        started = time.perf_counter()
        enqueue(deck.tasks[NOOP_TASK])
        elapsed = time.perf_counter() - started
        deck.close()
        probe = target.probe(url)
        _check_count(probe, "available", expected)
        probe.close()
    finally:
        deck.close()
        target.discard(url)
    return elapsed


def drain_reporting(target: Target, config: Config) -> dict[str, float]:
    """The drain, with each job reporting its progress and one log line (jobdeck.current_job()):
    what the batched report writes cost beside the bare drain."""
    return drain(target, config, task_name=REPORTING_TASK)


def drain(
    target: Target,
    config: Config,
    modules_file: str | None = None,
    wrap: Sequence[str] = (),
    task_name: str = NOOP_TASK,
) -> dict[str, float]:
    """One worker process drains ``jobs`` queued no-op jobs; its peak RSS is read at the end.

    ``jobs_per_s`` spans the first attempt's start to the last one's finish (store columns);
    ``wall_s`` runs from spawning the process until the store shows nothing unfinished, so it
    includes interpreter start-up, imports and registration.
    """
    url = target.fresh()
    probe = target.probe(url)
    worker: WorkerProcess | None = None
    try:
        queue_noop_jobs(url, config.jobs, 1_000, task_name)
        extra_env = {"JOBDECK_BENCH_MODULES": modules_file} if modules_file else {}
        worker = WorkerProcess(url, config, extra_env=extra_env, wrap=wrap)
        spawned = time.perf_counter()
        wait_until(
            "the drain to finish",
            lambda: not probe.has_unfinished(),
            config.drain_timeout,
            config.poll,
            worker,
        )
        wall = time.perf_counter() - spawned
        peak_kb = worker.status_kb("VmHWM") if not wrap else 0
        rss_kb = worker.status_kb("VmRSS") if not wrap else 0
        cpu = worker.cpu_seconds() if not wrap else 0.0
        code = worker.stop()
        worker = None
        if code != 0:
            raise BenchError(f"worker exited with code {code} after SIGTERM")
        _check_count(probe, "succeeded", config.jobs)
        first, last = probe.drain_span()
    finally:
        if worker is not None:
            worker.stop(timeout=5)
        probe.close()
        target.discard(url)
    span = last - first
    return {
        "jobs_per_s": config.jobs / span,
        "span_s": span,
        "wall_s": wall,
        "wall_jobs_per_s": config.jobs / wall,
        "peak_rss_mb": peak_kb / 1024,
        "rss_mb": rss_kb / 1024,
        # CPU seconds per wall second (spawn to done): near 1.0 means bound by the GIL/CPU,
        # well below it means the worker waits on the database.
        "cpu_s": cpu,
        "cpu_per_wall": cpu / wall,
    }


def start_latency(target: Target, config: Config) -> dict[str, float]:
    """``latency_jobs`` single enqueues at ``latency_rate``/s into an idle worker process;
    latency is the attempt's ``started_at`` minus the job's ``enqueued_at``."""
    url = target.fresh()
    probe = target.probe(url)
    worker = WorkerProcess(url, config)
    deck = make_deck(url)
    try:
        task = deck.tasks[NOOP_TASK]
        deck.store.check_schema()
        wait_until("the worker to register", lambda: probe.running_workers() > 0, 30, 0.05, worker)
        time.sleep(1.0)  # let its start-up ticks pass: the worker is idle from here on
        interval = 1.0 / config.latency_rate
        started = time.perf_counter()
        for i in range(config.latency_jobs):
            pause = started + i * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            task.enqueue()
        rate = config.latency_jobs / (time.perf_counter() - started)
        wait_until("the jobs to finish", lambda: not probe.has_unfinished(), 30, 0.05, worker)
        latencies = sorted(probe.start_latencies())
    finally:
        deck.close()
        worker.stop()
        probe.close()
        target.discard(url)
    if len(latencies) != config.latency_jobs:
        raise BenchError(f"expected {config.latency_jobs} attempts, found {len(latencies)}")
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
        "max_ms": latencies[-1] * 1000,
        "rate_per_s": rate,
    }


def cpu_reference(loops: int = 3_000_000) -> float:
    """A fixed pure-Python loop, in ms: lets figures from different days be compared."""
    started = time.perf_counter()
    total = 0
    for i in range(loops):
        total += i % 7
    return (time.perf_counter() - started) * 1000
