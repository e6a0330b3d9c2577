"""Helpers shared by the harness and the per-run driver: stdlib only (the driver also runs in
the arq and Oban virtualenvs, which hold neither jobdeck nor the other peers)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = REPO_ROOT / "bench" / "peers"
RESULTS_DIR = REPO_ROOT / "bench" / "results"

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
# A Redis database of its own, emptied (FLUSHDB, this database only) before every measurement.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
# Every PostgreSQL database this benchmark creates starts with this; leftovers are dropped.
PG_PREFIX = "jd_peers_"


class BenchError(RuntimeError):
    pass


# -- processes -----------------------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (pool children of prefork/forking workers)."""
    children = _children_map()
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Worker:
    """A system's own worker CLI as a subprocess, in a session of its own."""

    def __init__(
        self, command: Sequence[str], env: Mapping[str, str], log_path: Path, cwd: Path = REPO_ROOT
    ) -> None:
        self.command = list(command)
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.spawned = time.time()
        self.proc = subprocess.Popen(
            self.command,
            cwd=cwd,
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise BenchError(
                f"worker exited with code {self.proc.returncode}: {' '.join(self.command)}\n"
                + self.log_tail()
            )

    def memory(self) -> dict[str, float]:
        """Peak RSS (VmHWM) of the worker process and of its whole tree, in MB."""
        tree = process_tree(self.pid)
        peaks = [status_kb(pid, "VmHWM") for pid in tree]
        return {
            "rss_peak_mb": sum(peaks) / 1024,
            "rss_peak_main_mb": peaks[0] / 1024 if peaks else 0.0,
            "processes": float(len(tree)),
        }

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in process_tree(self.pid))

    def log_tail(self, lines: int = 25) -> str:
        with contextlib.suppress(ValueError):  # already closed
            self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM (each CLI's graceful stop), then SIGKILL to the session if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        # Pool children a parent left behind, or a parent that would not stop.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


def wait_for(
    what: str,
    check: Callable[[], Any],
    timeout: float,
    poll: float,
    worker: Worker | None = None,
) -> Any:
    """Call ``check`` every ``poll`` seconds until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if worker is not None:
            worker.check_alive()
        if time.monotonic() > deadline:
            tail = f"\nworker log:\n{worker.log_tail()}" if worker is not None else ""
            raise BenchError(f"timed out after {timeout:g} s waiting for {what}{tail}")
        time.sleep(poll)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), ``q`` in [0, 100]."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def python_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for workers and drivers: the repo root importable, nothing inherited
    that would change a peer's behaviour (its own *_URL / DSN variables)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PEERS_", "JOBDECK_", "PGQUEUER_", "OBAN_", "DRAMATIQ_", "RQ_"))
        and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PGDSN", "DATABASE_URL", "REDIS_URL")
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env
