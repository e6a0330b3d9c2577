"""Profile one worker process draining queued no-op jobs, and print where its time goes.

    .venv/bin/python bench/profile_drain.py --dialect sqlite --jobs 50000
    .venv/bin/python bench/profile_drain.py --dialect postgres --py-spy /tmp/probe/bin/py-spy

With py-spy (not a project dependency: install it anywhere, pass --py-spy or put it on PATH)
the worker runs under ``py-spy record --idle --nonblocking``; samples are grouped by thread, and
for each thread the script prints where it spends its wall time (the innermost jobdeck frame and
the frame below it). Without py-spy it falls back to cProfile in every thread of the worker
(``JOBDECK_BENCH_CPROFILE``, see bench/app.py), which slows the worker down several times.
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.targets import DEFAULT_PG_ADMIN_URL, PostgresTarget, SQLiteTarget, Target
from bench.workloads import Config, WorkerProcess, queue_noop_jobs

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# Samples in these frames are start-up, not the drain.
_STARTUP = ("_find_and_load", "load_app (jobdeck/cli/context.py")
# Idle job threads waiting for work, and services sleeping between ticks.
_IDLE_LEAVES = ("ThreadSlots._loop", "Looper._run", "Completer._next_batch")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=Config.concurrency)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=12, help="rows per thread")
    parser.add_argument("--py-spy", default=os.environ.get("PY_SPY") or shutil.which("py-spy"))
    parser.add_argument(
        "--gil", action="store_true", help="py-spy: only the thread holding the GIL (cheap)"
    )
    parser.add_argument("--cprofile", action="store_true", help="use cProfile even with py-spy")
    parser.add_argument("--keep", type=Path, default=None, help="keep the raw profile here")
    parser.add_argument(
        "--pg-admin-url", default=os.environ.get("JOBDECK_BENCH_PG", DEFAULT_PG_ADMIN_URL)
    )
    return parser.parse_args(argv)


def _child_pid(pid: int) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def record(target: Target, args: argparse.Namespace, output: Path) -> float:
    """Queue the jobs, drain them under the profiler; returns the drain's wall seconds."""
    config = Config(jobs=args.jobs, concurrency=args.concurrency)
    url = target.fresh()
    queue_noop_jobs(url, args.jobs, 1_000)
    probe = target.probe(url)
    wrap: list[str] = []
    extra_env: dict[str, str] = {}
    if args.use_cprofile:
        extra_env["JOBDECK_BENCH_CPROFILE"] = str(output)
    else:
        mode = "--gil" if args.gil else "--idle"
        wrap = [args.py_spy, "record", mode, "--nonblocking", "--threads"]
        wrap += ["--format", "raw", "-r", str(args.rate), "-o", str(output), "--"]
    try:
        worker = WorkerProcess(url, config, extra_env=extra_env, wrap=wrap)
        started = time.perf_counter()
        while probe.has_unfinished():
            worker.check_alive()
            time.sleep(0.02)
        wall = time.perf_counter() - started
        python_pid = _child_pid(worker.pid) if wrap else worker.pid
        if python_pid is not None:
            os.kill(python_pid, signal.SIGTERM)  # py-spy writes its file when the worker exits
        worker.proc.wait(60)
        worker.stop()
    finally:
        probe.close()
        target.discard(url)
    return wall


def _frame_name(frame: str, line: bool = False) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    where = f"{match['file']}:{match['line']}" if line and match["line"] else match["file"]
    return f"{match['func']} ({where})"


def _thread_group(name: str) -> str:
    return re.sub(r"[-_]?\d+$", "", name) or name


def summarise_raw(path: Path, top: int) -> list[str]:
    """Per thread group: its share of samples and the places it spends them."""
    per_group: dict[str, Counter[str]] = defaultdict(Counter)
    threads: dict[str, set[str]] = defaultdict(set)
    busy_leaf: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if not count_text.isdigit() or any(marker in stack for marker in _STARTUP):
            continue
        count = int(count_text)
        thread_id, _, name = frames[0].partition(": ")
        group = _thread_group(name or "(unnamed)")
        threads[group].add(thread_id)
        raw_calls = frames[1:]
        calls = [_frame_name(f) for f in raw_calls]
        ours = [i for i, f in enumerate(calls) if "jobdeck/" in f or "bench/" in f]
        if not ours:
            place = calls[-1] if calls else "?"
        else:
            inner = ours[-1]
            below = calls[inner + 1] if inner + 1 < len(calls) else "(self)"
            place = f"{_frame_name(raw_calls[inner], line=True)} -> {below}"
        per_group[group][place] += count
        idle = ours and any(calls[ours[-1]].startswith(marker) for marker in _IDLE_LEAVES)
        if calls and not idle:
            busy_leaf[_frame_name(raw_calls[-1], line=True)] += count
    lines = []
    for group, places in sorted(per_group.items(), key=lambda kv: -kv[1].total()):
        total = places.total()
        lines.append(f"\n[{group}] x{len(threads[group])} threads, {total} samples")
        for place, count in places.most_common(top):
            lines.append(f"  {100 * count / total:5.1f}%  {place}")
    total_busy = busy_leaf.total()
    lines.append(f"\n[innermost frames, all threads, idle waits left out] {total_busy} samples")
    for leaf, count in busy_leaf.most_common(top * 2):
        lines.append(f"  {100 * count / total_busy:5.1f}%  {leaf}")
    return lines


def summarise_cprofile(path: Path, top: int) -> list[str]:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(top * 2)
    stats.sort_stats("cumulative").print_stats(top * 2)
    return out.getvalue().splitlines()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.use_cprofile = args.cprofile or not args.py_spy
    if args.use_cprofile and not args.cprofile:
        print("py-spy not found (--py-spy PATH): falling back to cProfile", file=sys.stderr)
    target: Target = (
        SQLiteTarget() if args.dialect == "sqlite" else PostgresTarget(args.pg_admin_url)
    )
    suffix = ".pstats" if args.use_cprofile else ".raw"
    output = args.keep or Path(tempfile.mkstemp(prefix="jd_bench_profile_", suffix=suffix)[1])
    try:
        wall = record(target, args, output)
    finally:
        target.close()
    mode = "--gil" if args.gil else "--idle"
    tool = "cProfile" if args.use_cprofile else f"py-spy {mode} at {args.rate} Hz"
    print(
        f"drain of {args.jobs:,} no-op jobs on {target.label}, concurrency={args.concurrency}: "
        f"{wall:.2f} s under {tool} ({args.jobs / wall:,.0f} jobs/s while profiled)"
    )
    summary = summarise_cprofile if args.use_cprofile else summarise_raw
    for line in summary(output, args.top):
        print(line)
    if args.keep is None:
        output.unlink(missing_ok=True)
    else:
        print(f"\nraw profile kept in {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
