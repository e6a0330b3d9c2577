"""What ``python -m jobdeck worker`` imports, and what those imports cost.

    .venv/bin/python bench/imports.py [--dialect sqlite|postgres] [--top 20] [--rss]

Starts a real worker under ``python -X importtime`` on an empty database, stops it with SIGTERM
once it has registered, and prints the module count, the third-party packages, the slowest
top-level imports (cumulative) and the worker's RSS while idle. ``--rss`` adds what each
import costs in resident memory (``bench/import_rss.py``: the same modules imported one at a
time in a fresh interpreter) and the resident pages of each shared library they load.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_rss import measure
from bench.targets import DEFAULT_PG_ADMIN_URL, PostgresTarget, SQLiteTarget, Target
from bench.workloads import REPO_ROOT, Config, WorkerProcess, wait_until

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--rss", action="store_true", help="also the RSS each import adds")
    parser.add_argument(
        "--pg-admin-url", default=os.environ.get("JOBDECK_BENCH_PG", DEFAULT_PG_ADMIN_URL)
    )
    args = parser.parse_args(argv)
    target: Target = (
        SQLiteTarget() if args.dialect == "sqlite" else PostgresTarget(args.pg_admin_url)
    )
    try:
        url = target.fresh()
        probe = target.probe(url)
        worker = WorkerProcess(url, Config(), python_args=["-X", "importtime"])
        wait_until("the worker to register", lambda: probe.running_workers() > 0, 30, 0.05, worker)
        time.sleep(0.5)
        rss_kb = worker.status_kb("VmRSS")
        worker.log.flush()
        text = Path(worker.log.name).read_text()
        worker.stop()
        probe.close()
        target.discard(url)
    finally:
        target.close()

    entries = []  # (cumulative us, self us, depth, name)
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            self_us, cumulative, indent, name = match.groups()
            entries.append((int(cumulative), int(self_us), (len(indent) - 1) // 2, name))
    names = {e[3] for e in entries}
    stdlib = sys.stdlib_module_names
    third_party = sorted(
        {n.split(".")[0] for n in names}
        - set(stdlib)
        - {"jobdeck", "bench", "encodings", "site", "sitecustomize", "_distutils_hack"}
    )
    # -X importtime also lists imports that failed (copy tries org.python.core): keep real ones.
    third_party = [
        n for n in third_party if not n.startswith("_") and importlib.util.find_spec(n) is not None
    ]
    total_ms = sum(e[1] for e in entries) / 1000
    print(f"worker on {target.label}: {len(entries)} modules imported ({total_ms:.0f} ms)")
    print(f"RSS while idle after start-up: {rss_kb / 1024:.1f} MB")
    print(f"third-party packages: {', '.join(third_party) or 'none'}")
    by_package: dict[str, int] = {}
    for _cumulative, self_us, _depth, name in entries:
        top = name.split(".")[0]
        by_package[top] = by_package.get(top, 0) + self_us
    print(f"\nimport time by top-level package (self time summed), top {args.top}:")
    for name, micros in sorted(by_package.items(), key=lambda kv: -kv[1])[: args.top]:
        count = sum(1 for e in entries if e[3].split(".")[0] == name)
        print(f"  {micros / 1000:7.1f} ms  {count:4d} modules  {name}")
    print(f"\nslowest imports (cumulative), top {args.top}:")
    for cumulative, _self_us, depth, name in sorted(entries, reverse=True)[: args.top]:
        print(f"  {cumulative / 1000:7.1f} ms  {'  ' * depth}{name}")
    if args.rss:
        print_rss([e[3] for e in entries], rss_kb, args.top)
    return 0


def print_rss(modules: list[str], worker_kb: int, top: int) -> None:
    """The RSS table: by group, the costliest modules, the shared libraries."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    report = measure(modules, env, REPO_ROOT)
    imported = report.end_kb - report.start_kb
    print(
        f"\nRSS: interpreter {report.start_kb / 1024:.1f} MB + imports {imported / 1024:.1f} MB"
        f" = {report.end_kb / 1024:.1f} MB; the idle worker adds"
        f" {(worker_kb - report.end_kb) / 1024:.1f} MB (threads, connections, buffers)"
    )
    print(f"\nRSS by package (each module's own import, summed), top {top}:")
    for group, kb, count in report.by_group()[:top]:
        print(f"  {kb / 1024:6.2f} MB  {count:4d} modules  {group}")
    print(f"\ncostliest single imports (incl. the libraries they load), top {top}:")
    for name, kb in sorted(report.modules, key=lambda r: -r[1])[:top]:
        print(f"  {kb / 1024:6.2f} MB  {name}")
    print(f"\nshared libraries, resident pages (smaps Rss), top {top}:")
    for path, kb in report.libraries[:top]:
        print(f"  {kb / 1024:6.2f} MB  {path}")


if __name__ == "__main__":
    sys.exit(main())
