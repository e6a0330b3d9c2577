"""What installing jobdeck costs a user: distributions and disk, for the core and for [all].

Builds the wheel from a clean copy of the repository (as tests/package/ does), installs it into
fresh venvs under the pinned constraints.txt, and prints one line per install:

    .venv/bin/python scripts/install_footprint.py

Sizes are site-packages in MB (10**6 bytes) without pip, setuptools (with _distutils_hack and
pkg_resources) and jobdeck itself: what jobdeck's dependencies add to an environment.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.package import installs  # noqa: E402  (needs ROOT on sys.path first)

INSTALLS = {"core": "", "all": "[all]"}
NOT_COUNTED = {"pip", "setuptools", "jobdeck"}


def owned_entries(site_packages: Path, distributions: set[str]) -> set[str]:
    """Top-level names in site-packages that the RECORDs of ``distributions`` list."""
    owned: set[str] = set()
    for info in site_packages.glob("*.dist-info"):
        if info.name.split("-")[0].lower() not in distributions:
            continue
        owned.add(info.name)
        for line in (info / "RECORD").read_text().splitlines():
            first = line.split(",")[0].split("/")[0]
            if first and first != "..":  # "../../bin/pip" is outside site-packages
                owned.add(first)
    return owned


def size_of(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(item.lstat().st_size for item in path.rglob("*") if not item.is_dir())


def footprint(venv: installs.Venv) -> tuple[list[str], float]:
    """Distributions besides pip, setuptools and jobdeck, and the MB they take."""
    names = sorted(set(venv.distributions()) - NOT_COUNTED)
    site_packages = venv.site_packages()
    skipped = owned_entries(site_packages, {name.replace("-", "_") for name in NOT_COUNTED})
    kept = [entry for entry in site_packages.iterdir() if entry.name not in skipped]
    return names, sum(size_of(entry) for entry in kept) / 1e6


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="jobdeck-footprint-") as folder:
        work = Path(folder)
        source = installs.clean_copy(work / "source")
        dists = installs.build_dists(source, work / "dist")
        print(f"wheel {dists.wheel.name}: {dists.wheel.stat().st_size / 1e3:.0f} kB")
        for label, extras in INSTALLS.items():
            venv = installs.make_venv(work / label, f"{dists.wheel}{extras}")
            names, megabytes = footprint(venv)
            print(f"jobdeck{extras or ' (core)'}: {len(names)} distributions, {megabytes:.1f} MB")
            print(f"    {', '.join(names)}")


if __name__ == "__main__":
    main()
