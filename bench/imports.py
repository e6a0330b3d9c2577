"""What ``python -m jobdeck worker`` imports, and what those imports cost.

    .venv/bin/python bench/imports.py [--dialect sqlite|postgres] [--top 20]

Starts a real worker under ``python -X importtime`` on an empty database, stops it with SIGTERM
once it has registered, and prints the module count, the third-party packages, the slowest
top-level imports (cumulative) and the worker's RSS while idle.
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

from bench.targets import DEFAULT_PG_ADMIN_URL, PostgresTarget, SQLiteTarget, Target
from bench.workloads import Config, WorkerProcess, wait_until

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--top", type=int, default=20)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
