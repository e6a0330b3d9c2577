"""One measurement of one system, in the virtualenv that holds it; prints nothing, writes JSON.

    <venv>/bin/python -m bench.peers.driver --system rq --workload drain --out result.json

The harness (``bench/peers/harness.py``) runs one driver process per (repeat, workload,
system), so no system's imports, connections or leftovers reach another's figures.

Workloads:

``single``   ``jobs`` enqueues, one call at a time, from one thread (or one coroutine)
``bulk``     the same number through the system's batch API, ``chunk`` jobs per call
``drain``    ``bulk`` (timed too), then the system's own worker CLI drains the queue; the
             worker's peak RSS (VmHWM) is read when the queue is empty, before it is stopped
``latency``  a worker idles; ``latency_jobs`` pings at ``latency_rate``/s, each carrying the
             ``time.time()`` taken just before its enqueue call; the task writes its start time
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peers import systems
from bench.peers.common import (
    DEFAULT_PG_ADMIN_URL,
    DEFAULT_REDIS_URL,
    BenchError,
    Worker,
    percentile,
    wait_for,
)
from bench.peers.systems.base import Context, System

POLL = 0.01  # seconds between looks at a system's state while it works


class Driver:
    def __init__(self, system: System, args: argparse.Namespace) -> None:
        self.system = system
        self.args = args
        self.ctx = system.ctx
        self.loop = asyncio.new_event_loop()

    def call(self, fn: Any, *args: Any) -> Any:
        result = fn(*args)
        if inspect.isawaitable(result):
            result = self.loop.run_until_complete(result)
        return result

    # -- sink ---------------------------------------------------------------------------------

    def counter(self) -> int:
        path = self.ctx.sink / "count"
        return path.stat().st_size if path.exists() else 0

    def latency_lines(self) -> list[tuple[float, float]]:
        path = self.ctx.sink / "latency"
        if not path.exists():
            return []
        pairs = []
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                pairs.append((float(parts[0]), float(parts[1])))
        return pairs

    def first_start(self) -> float:
        starts = [float(p.read_text()) for p in self.ctx.sink.glob("start.*") if p.read_text()]
        if not starts:
            raise BenchError("no task wrote its start time")
        return min(starts)

    def worker(self) -> Worker:
        command = self.system.worker_command()
        return Worker(command, self.system.worker_env(), self.ctx.run_dir / "worker.log")

    # -- checks -------------------------------------------------------------------------------

    def expect_queued(self, expected: int) -> None:
        found = self.call(self.system.queued_count)
        if found != expected:
            raise BenchError(f"{self.system.name}: expected {expected} queued jobs, found {found}")

    # -- workloads ----------------------------------------------------------------------------

    def _timed(self, fn: Any, total: int, block: int) -> tuple[int, float]:
        """``fn(size)`` for blocks of ``total`` until done or past the cap; (jobs, seconds)."""
        done = 0
        started = time.perf_counter()
        while done < total:
            size = min(block, total - done)
            self.call(fn, size)
            done += size
            if time.perf_counter() - started > self.args.cap:
                break
        return done, time.perf_counter() - started

    def single(self) -> dict[str, float]:
        self.call(self.system.connect)
        done, elapsed = self._timed(self.system.enqueue_single, self.ctx.jobs, 500)
        self.call(self.system.close)
        self.expect_queued(done)
        return {
            "jobs_per_s": done / elapsed,
            "seconds": elapsed,
            "jobs": float(done),
            "capped": float(done < self.ctx.jobs),
        }

    def _bulk(self) -> dict[str, float]:
        n, chunk = self.ctx.jobs, self.ctx.chunk
        done, elapsed = self._timed(lambda size: self.system.enqueue_bulk(size, chunk), n, chunk)
        self.expect_queued(done)
        figures = {
            "jobs_per_s": done / elapsed,
            "seconds": elapsed,
            "chunk": float(chunk),
            "jobs": float(done),
            "capped": float(done < n),
        }
        copy = getattr(self.system, "enqueue_copy", None)
        if copy is not None:  # the PostgreSQL floor: COPY as well as the multi-row insert
            self.system.truncate()  # type: ignore[attr-defined]
            started = time.perf_counter()
            copy(done, chunk)
            figures["copy_jobs_per_s"] = done / (time.perf_counter() - started)
            self.expect_queued(done)
        return figures

    def bulk(self) -> dict[str, float]:
        self.call(self.system.connect)
        figures = self._bulk()
        self.call(self.system.close)
        return figures

    def drain(self) -> dict[str, Any]:
        system = self.system
        self.call(system.connect)
        bulk = self._bulk()
        n = int(bulk["jobs"])  # fewer than --jobs when the bulk enqueue hit the cap
        size = getattr(system, "db_bytes", None)
        before = size() if size else 0
        if not system.has_worker:
            figures = system.drain_inline(n)  # type: ignore[attr-defined]
            if size:
                figures["store_growth_bytes_per_job"] = (size() - before) / n
            self.call(system.close)
            finished = self.call(system.finished_count)
            if finished != n:
                raise BenchError(f"{system.name}: {finished} of {n} jobs finished")
            return {"bulk": bulk, "drain": figures}
        self.call(system.close)
        worker = self.worker()
        try:
            ended, done = self._watch_drain(worker, n)
            memory = worker.memory()
            cpu = worker.cpu()
            if size and done:
                memory["store_growth_bytes_per_job"] = (size() - before) / done
            time.sleep(0.2)  # a duplicate run would show in the counter now
            ran = self.counter()
            if done == n and ran != n:
                raise BenchError(f"{system.name}: task bodies ran {ran} times for {n} jobs")
            if ran > n or ran < done:
                raise BenchError(f"{system.name}: {ran} task bodies, {done} done, {n} jobs")
            if done == n and system.own_state:
                finished = self.call(system.finished_count)
                if finished is not None and finished != n:
                    raise BenchError(f"{system.name}: {finished} of {n} jobs recorded done")
            start = self.first_start()
        finally:
            code = worker.stop()
        span = ended - start
        wall = ended - worker.spawned
        figures = {
            "jobs_per_s": done / span,
            "span_s": span,
            "jobs": float(done),
            "capped": float(done < self.ctx.jobs),
            "wall_s": wall,
            "startup_s": start - worker.spawned,
            "cpu_s": cpu,
            "cpu_per_wall": cpu / wall,
            "exit_code": float(code if code is not None else -999),
            **memory,
        }
        return {"bulk": bulk, "drain": figures}

    def _watch_drain(self, worker: Worker, n: int) -> tuple[float, int]:
        """Poll until the system says all ``n`` are done, or the cap passes after the first
        job started; then (when, how many done)."""
        system = self.system
        deadline = time.monotonic() + self.args.drain_timeout
        cap_at: float | None = None
        while True:
            if system.own_state:
                finished = bool(self.call(system.drained, n))
            else:
                finished = self.counter() >= n
            now = time.time()
            if finished:
                return now, n
            if cap_at is None and any(self.ctx.sink.glob("start.*")):
                cap_at = self.first_start() + self.args.cap
            if cap_at is not None and now > cap_at:
                done = self.call(system.finished_count) if system.own_state else None
                return now, self.counter() if done is None else int(done)
            worker.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(
                    f"timed out after {self.args.drain_timeout:g} s waiting for the drain\n"
                    + worker.log_tail()
                )
            time.sleep(POLL)

    def latency(self) -> dict[str, float]:
        count, rate = self.args.latency_jobs, self.args.latency_rate
        system = self.system
        worker = self.worker()
        try:
            self.call(system.connect)
            # A first ping proves the worker is up; its latency includes start-up: dropped.
            self.call(system.enqueue_ping, time.time())
            wait_for("the worker's first job", self.latency_lines, 120, 0.02, worker)
            time.sleep(1.0)  # idle from here on
            if system.is_async:
                self.loop.run_until_complete(self._paced_async(count, rate))
            else:
                self._paced(count, rate)
            wait_for(
                "the pings",
                lambda: len(self.latency_lines()) >= count + 1,
                60,
                0.02,
                worker,
            )
            memory = worker.memory()
            self.call(system.close)
        finally:
            worker.stop()
        pairs = sorted(self.latency_lines())[1:]
        if len(pairs) != count:
            raise BenchError(f"{system.name}: {len(pairs)} pings ran for {count} sent")
        latencies = sorted((t1 - t0) * 1000 for t0, t1 in pairs)
        return {
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "p99_ms": percentile(latencies, 99),
            "max_ms": latencies[-1],
            "rss_idle_peak_mb": memory["rss_peak_mb"],
        }

    def _paced(self, count: int, rate: float) -> None:
        interval = 1.0 / rate
        started = time.perf_counter()
        enqueue = self.system.enqueue_ping
        for i in range(count):
            pause = started + i * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            enqueue(time.time())

    async def _paced_async(self, count: int, rate: float) -> None:
        interval = 1.0 / rate
        started = time.perf_counter()
        enqueue = self.system.enqueue_ping
        for i in range(count):
            pause = started + i * interval - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            await enqueue(time.time())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="one measurement of one system")
    parser.add_argument("--system", required=True, choices=sorted(systems.SYSTEMS))
    parser.add_argument("--workload", required=True, choices=("single", "bulk", "drain", "latency"))
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=1_000)
    parser.add_argument("--latency-jobs", type=int, default=300)
    parser.add_argument("--latency-rate", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--settings", choices=("defaults", "tuned"), default="defaults")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument(
        "--cap",
        type=float,
        default=15.0,
        help="seconds: single enqueue, bulk enqueue and drain stop there (rates stay exact)",
    )
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the run folder (logs)")
    parser.add_argument("--out", type=Path, default=None, help="JSON result (default stdout)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_dir = Path(tempfile.mkdtemp(prefix=f"jd_peers_{args.system}_"))
    (run_dir / "sink").mkdir()
    ctx = Context(
        jobs=args.jobs,
        chunk=args.chunk,
        run_dir=run_dir,
        pg_admin_url=args.pg_admin_url,
        redis_url=args.redis_url,
        concurrency=args.concurrency,
        settings=args.settings,
    )
    out: dict[str, Any] = {"system": args.system, "workload": args.workload}
    system: System | None = None
    prepared = False
    try:
        system = systems.load(args.system)(ctx)
        out["setting"] = system.worker_setting()
        system.prepare()
        prepared = True
        out["figures"] = getattr(Driver(system, args), args.workload)()
        out["describe"] = system.describe()
        out["ok"] = True
    except Exception as exc:  # reported by the harness, which goes on with the others
        out["ok"] = False
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()
        log = run_dir / "worker.log"
        if log.exists():
            out["worker_log"] = log.read_text(errors="replace")[-4000:]
    finally:
        if system is not None and prepared:
            try:
                system.cleanup()
            except Exception as exc:
                out.setdefault("warnings", []).append(f"cleanup: {exc}")
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            out["run_dir"] = str(run_dir)
    text = json.dumps(out, indent=1, default=str)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
