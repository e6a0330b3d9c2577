"""What every benchmark script shares: the machine a run was on, and how a figure is printed."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

POSTGRES_SETTINGS_SQL = (
    "SELECT current_setting('server_version'), current_setting('fsync'), "
    "current_setting('synchronous_commit'), current_setting('shared_buffers')"
)


def describe_machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    """Cores, CPU, Python and the load average around the run: other processes on the
    machine skew figures, and the load average says how busy it was."""
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def describe_postgres(run_admin: Callable[[str], Sequence[Sequence[Any]]]) -> dict[str, Any]:
    """The server settings a PostgreSQL figure depends on (durability, memory)."""
    version, fsync, sync_commit, shared = run_admin(POSTGRES_SETTINGS_SQL)[0]
    return {
        "server_version": version,
        "fsync": fsync,
        "synchronous_commit": sync_commit,
        "shared_buffers": shared,
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def number(value: float) -> str:
    """3 significant-ish figures: 48,578 / 41.8 / 3.46."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
