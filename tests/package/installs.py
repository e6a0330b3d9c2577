"""jobdeck as a user gets it: a wheel and an sdist built from a clean copy of the repository,
installed into fresh virtual environments whose PATH has no Node.

Shared by tests/package/ and scripts/install_footprint.py, so it imports nothing from pytest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
# Variables that would make a fresh venv see the developer's code or settings instead of its own.
LEAKY_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")
INSTALL_TIMEOUT = 300


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Venv:
    """A fresh virtual environment with jobdeck installed from a wheel."""

    path: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def env(self) -> dict[str, str]:
        return user_env(self.bin)

    def run(
        self, *args: str | Path, cwd: Path | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """``args`` with this venv's environment; never raises on a non-zero exit."""
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=cwd or self.path,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def distributions(self) -> dict[str, str]:
        """Installed distributions, lower-cased name -> version, as ``pip list`` sees them."""
        done = checked(
            self.run(
                self.python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"
            )
        )
        return {item["name"].lower(): item["version"] for item in json.loads(done.stdout)}

    def site_packages(self) -> Path:
        done = checked(
            self.run(self.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
        )
        return Path(done.stdout.strip())


def user_env(bin_folder: Path) -> dict[str, str]:
    """This process's environment (pip's own settings included) with PATH reduced to
    ``bin_folder``: nothing a user may lack, Node above all, can be found by accident."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in LEAKY_VARIABLES and not name.startswith("JOBDECK_")
    }
    env["PATH"] = str(bin_folder)
    return env


def checked(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """``done`` if it exited 0, else an error carrying its command and output."""
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, done.args))} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


def tracked_files(root: Path = ROOT) -> list[str]:
    done = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
    )
    return [name for name in done.stdout.split("\0") if name]


def clean_copy(into: Path, root: Path = ROOT) -> Path:
    """The files git tracks, with their working-tree content, copied into ``into``.

    A clean clone is what a release is built from: no .venv, node_modules, build/ or files
    someone forgot to add. A tracked file deleted in the working tree is left out, as a
    commit of the working tree would.
    """
    for name in tracked_files(root):
        source = root / name
        if not source.exists() and not source.is_symlink():
            continue
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return into


def build_dists(source: Path, outdir: Path, python: Path | None = None) -> Dists:
    """``python -m build`` in ``source``: the sdist, then the wheel built from that sdist.

    ``python`` (default: this interpreter) needs build and setuptools installed; the build
    runs with PATH holding only that interpreter's folder, so a build step wanting Node fails.
    """
    builder = Path(python or sys.executable)
    checked(
        subprocess.run(
            [str(builder), "-m", "build", "--no-isolation", "--outdir", str(outdir)],
            cwd=source,
            env=user_env(builder.parent),
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    )
    (wheel,) = outdir.glob("jobdeck-*.whl")
    (sdist,) = outdir.glob("jobdeck-*.tar.gz")
    return Dists(wheel=wheel, sdist=sdist)


def base_python() -> Path:
    """The interpreter this one runs on, outside any venv, so a new venv inherits nothing."""
    return Path(getattr(sys, "_base_executable", None) or sys.executable)


def make_venv(path: Path, requirement: str, constraints: Path = CONSTRAINTS) -> Venv:
    """A fresh venv at ``path`` with ``requirement`` (a wheel path, with extras if any)
    installed by pip under the pinned ``constraints``."""
    checked(
        subprocess.run(
            [str(base_python()), "-m", "venv", str(path)],
            env=user_env(base_python().parent),
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    )
    venv = Venv(path)
    checked(
        venv.run(
            venv.python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "-c",
            constraints,
            requirement,
            timeout=INSTALL_TIMEOUT,
        )
    )
    return venv
