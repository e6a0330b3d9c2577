"""What each module a worker imports costs in resident memory (RSS), not only in time.

``bench/imports.py --rss`` calls :func:`measure` with the modules a worker imported; a fresh
interpreter (``bench/import_rss_child.py``) imports them one at a time and reports each
module's own RSS cost (its code objects, functions, module-level tables and the shared
libraries it loads, without what its own imports added) and every shared library's resident
pages (``/proc/self/smaps``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CHILD = Path(__file__).with_name("import_rss_child.py")

# Importing these would run a program: ``python -m jobdeck`` is the worker itself.
_SKIP_SUFFIXES = ("__main__",)
_ROOMS = {"documents", "django", "sqlite", "postgres"}
# A C accelerator counts with its module: _ssl with ssl, _hashlib with hashlib.
_ACCELERATED = {"ssl", "asyncio", "hashlib", "sqlite3", "json", "decimal", "datetime", "socket"}


@dataclass(frozen=True)
class RssReport:
    start_kb: int  # the interpreter, before the first module of the list
    end_kb: int  # after the last
    modules: list[tuple[str, int]]  # (module, kB its own import added), in import order
    libraries: list[tuple[str, int]]  # (shared library path, resident kB), largest first

    def by_group(self) -> list[tuple[str, int, int]]:
        """(group, kB, modules) summed over :func:`group_of`, largest first."""
        sums: dict[str, list[int]] = {}
        for name, kb in self.modules:
            entry = sums.setdefault(group_of(name), [0, 0])
            entry[0] += kb
            entry[1] += 1
        return sorted(((g, kb, n) for g, (kb, n) in sums.items()), key=lambda r: -r[1])


def group_of(name: str) -> str:
    """The row a module counts in: jobdeck's rooms (``jobdeck.control``, ``jobdeck.store.sqlite``,
    ``jobdeck.contrib.documents``), other packages by their top-level name."""
    parts = name.split(".")
    if parts[0] == "jobdeck":
        deep = len(parts) > 2 and parts[1] in ("contrib", "store") and parts[2] in _ROOMS
        return ".".join(parts[:3] if deep else parts[:2])
    top = parts[0]
    return top.lstrip("_") if top.lstrip("_") in _ACCELERATED else top


def measure(modules: Sequence[str], env: dict[str, str], cwd: Path) -> RssReport:
    """Import ``modules`` one at a time in a fresh interpreter (``env``, ``cwd`` as the worker's)
    and report what each added to its RSS."""
    names = [m for m in modules if not m.endswith(_SKIP_SUFFIXES)]
    done = subprocess.run(
        [sys.executable, str(CHILD)],
        input="\n".join(names),
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    )
    figures: dict[str, int] = {}
    rows: dict[str, list[tuple[str, int]]] = {"module": [], "library": []}
    for line in done.stdout.splitlines():  # an imported module may print: keep known lines
        fields = line.split()
        if len(fields) == 2 and fields[0] in ("start", "end") and fields[1].isdigit():
            figures[fields[0]] = int(fields[1])
        elif len(fields) == 3 and fields[0] in rows and fields[2].lstrip("-").isdigit():
            rows[fields[0]].append((fields[1], int(fields[2])))
    return RssReport(figures["start"], figures["end"], rows["module"], rows["library"])
