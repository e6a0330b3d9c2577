"""The dashboard's two JavaScript libraries, vendored into the package and checked against npm.

The built files are committed under src/jobdeck/web/static/vendor/, so a wheel or sdist built
from a clean clone carries them and neither the builder nor the user needs Node. This script is
how they get there and how we know they are what package-lock.json pins:

    python3 scripts/vendor_static.py            # npm ci, copy the files, write manifest.json
    python3 scripts/vendor_static.py --check    # npm ci in a temporary folder, compare bytes
    python3 scripts/vendor_static.py --verify   # offline: files match manifest.json and the lock
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "jobdeck" / "web" / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"
LOCK = ROOT / "package-lock.json"
# vendored file -> (npm package, path inside that package)
FILES = {
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    "uPlot.iife.min.js": ("uplot", "dist/uPlot.iife.min.js"),
    "uPlot.min.css": ("uplot", "dist/uPlot.min.css"),
    # Their licenses travel with the copies (uPlot's MIT asks for its notice to).
    "htmx.org.LICENSE": ("htmx.org", "LICENSE"),
    "uPlot.LICENSE": ("uplot", "LICENSE"),
}


def locked_versions() -> dict[str, str]:
    packages = json.loads(LOCK.read_text())["packages"]
    return {
        path.removeprefix("node_modules/"): entry["version"]
        for path, entry in packages.items()
        if path.startswith("node_modules/")
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_install(into: Path) -> Path:
    """``npm ci`` of our package.json and lock in ``into``; returns its node_modules."""
    for name in ("package.json", "package-lock.json", ".npmrc"):
        shutil.copy(ROOT / name, into / name)
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("vendor_static: npm is not on PATH (Debian: apt-get install npm)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts"],
        cwd=into,
        check=True,
    )
    return into / "node_modules"


def refresh() -> None:
    with tempfile.TemporaryDirectory() as folder:
        modules = npm_install(Path(folder))
        VENDOR.mkdir(parents=True, exist_ok=True)
        for name, (package, inner) in FILES.items():
            shutil.copy(modules / package / inner, VENDOR / name)
    versions = locked_versions()
    manifest = {
        name: {"package": package, "version": versions[package], "sha256": sha256(VENDOR / name)}
        for name, (package, _) in FILES.items()
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"vendor_static: {', '.join(FILES)} refreshed from package-lock.json")


def verify() -> list[str]:
    """Offline: every vendored file is present, hashes as recorded, at the locked version."""
    problems = []
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    versions = locked_versions()
    for name, (package, _) in FILES.items():
        entry = manifest.get(name)
        path = VENDOR / name
        if entry is None or not path.exists():
            problems.append(f"{name}: missing (run: python3 scripts/vendor_static.py)")
        elif entry["version"] != versions.get(package):
            problems.append(
                f"{name}: vendored {package} {entry['version']}, package-lock.json pins "
                f"{versions.get(package)} (run: python3 scripts/vendor_static.py)"
            )
        elif entry["sha256"] != sha256(path):
            problems.append(f"{name}: changed by hand since it was vendored")
    return problems


def check_against_npm() -> list[str]:
    """Online: the vendored bytes equal the files npm installs for package-lock.json."""
    problems = verify()
    with tempfile.TemporaryDirectory() as folder:
        modules = npm_install(Path(folder))
        for name, (package, inner) in FILES.items():
            if (VENDOR / name).exists() and sha256(VENDOR / name) != sha256(
                modules / package / inner
            ):
                problems.append(f"{name}: differs from {package}/{inner} as npm installs it")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare with a fresh npm ci")
    mode.add_argument("--verify", action="store_true", help="offline manifest and lock check")
    options = parser.parse_args()
    if not (options.check or options.verify):
        refresh()
        return
    problems = check_against_npm() if options.check else verify()
    for problem in problems:
        print(f"vendor_static: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print("vendor_static: vendored files match package-lock.json")


if __name__ == "__main__":
    main()
