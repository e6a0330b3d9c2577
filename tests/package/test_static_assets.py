"""The dashboard's vendored JavaScript: it matches the lock file and npm, and when it is missing
every page and the start-up log say so in one line."""

from __future__ import annotations

import html
import importlib.util
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from jobdeck import JobDeck
from jobdeck.web import app as web_app
from tests.browser.conftest import as_admin
from tests.package.conftest import required_tool_missing
from tests.package.installs import ROOT

SCRIPT = ROOT / "scripts" / "vendor_static.py"
STATIC = Path(web_app.__file__).with_name("static")
WARNING = re.compile(r'<p class="notice notice-error asset-warning" role="alert">([^<]*)</p>')


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def vendor_static(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    """scripts/vendor_static.py imported, pointed at a copy of the vendor folder."""
    spec = importlib.util.spec_from_file_location("vendor_static", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    vendor = shutil.copytree(module.VENDOR, tmp_path / "vendor")
    monkeypatch.setattr(module, "VENDOR", vendor)
    monkeypatch.setattr(module, "MANIFEST", vendor / "manifest.json")
    return module


# -- the files match the lock --------------------------------------------------------------------


def test_offline_verify_passes() -> None:
    done = run_script("--verify")
    assert done.returncode == 0, done.stderr
    assert "vendored files match package-lock.json" in done.stdout


def test_verify_catches_a_file_edited_by_hand_or_deleted(vendor_static: ModuleType) -> None:
    assert vendor_static.verify() == []
    htmx = vendor_static.VENDOR / "htmx.min.js"
    htmx.write_bytes(htmx.read_bytes() + b"\n")
    (vendor_static.VENDOR / "uPlot.iife.min.js").unlink()
    problems = vendor_static.verify()
    assert problems == [
        "htmx.min.js: changed by hand since it was vendored",
        "uPlot.iife.min.js: missing (run: python3 scripts/vendor_static.py)",
    ]


def test_vendored_files_are_what_npm_installs() -> None:
    if shutil.which("npm") is None:
        required_tool_missing("npm is not on PATH (apt-get install npm)")
    done = run_script("--check")
    assert done.returncode == 0, done.stderr
    assert "vendored files match package-lock.json" in done.stdout


# -- a missing file is reported -------------------------------------------------------------------


@pytest.fixture
def static_without_htmx(tmp_path: Path) -> Path:
    static = shutil.copytree(STATIC, tmp_path / "static")
    (static / "vendor" / "htmx.min.js").unlink()
    return static


@pytest.fixture
def deck(tmp_path: Path) -> Iterator[JobDeck]:
    opened = JobDeck(f"sqlite:///{tmp_path}/j.db")
    opened.migrate()
    try:
        yield opened
    finally:
        opened.close()


def shown_warnings(client: TestClient, path: str) -> list[str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return [html.unescape(text) for text in WARNING.findall(page.text)]


def test_the_warning_names_the_missing_file_in_one_line(static_without_htmx: Path) -> None:
    assert web_app.missing_assets_warning(STATIC) is None
    warning = web_app.missing_assets_warning(static_without_htmx)
    assert warning is not None
    assert "\n" not in warning
    assert "(htmx.min.js)" in warning
    assert warning.endswith("run: python3 scripts/vendor_static.py")


def test_pages_show_and_the_log_records_once_a_missing_file(
    static_without_htmx: Path,
    deck: JobDeck,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # create_app looks for the files where the package keeps them: point that at the copy.
    real = web_app.missing_assets_warning
    monkeypatch.setattr(web_app, "missing_assets_warning", lambda: real(static_without_htmx))
    warning = real(static_without_htmx)
    with caplog.at_level(logging.ERROR, logger="jobdeck.web"):
        app = deck.asgi(authorize=as_admin)
        client = TestClient(app, follow_redirects=False)
        assert shown_warnings(client, "/jobs") == [warning]
        assert shown_warnings(client, "/schedules") == [warning]
    assert app.state.missing_assets == warning
    logged = [r.getMessage() for r in caplog.records if r.name == "jobdeck.web"]
    assert logged == [warning]


def test_an_intact_install_shows_and_logs_no_warning(
    deck: JobDeck, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="jobdeck.web"):
        app = deck.asgi(authorize=as_admin)
        page = TestClient(app, follow_redirects=False).get("/jobs")
    assert page.status_code == 200
    assert app.state.missing_assets is None
    assert "asset-warning" not in page.text
    assert not [r for r in caplog.records if r.name == "jobdeck.web"]
