"""jobdeck installed the way a user installs it: from the built wheel into fresh venvs, with
no Node on PATH, then used through its worker, its CLI and its dashboard in a real browser."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from jobdeck._version import __version__
from tests import pgtools
from tests.package import installs
from tests.package.conftest import required_tool_missing
from tests.ports import free_port

VENDOR = "jobdeck/web/static/vendor"
VENDORED_JS = ("htmx.min.js", "uPlot.iife.min.js")
EXTRAS = ("postgres", "dashboard", "documents", "s3", "demo", "all")
CORE_REQUIREMENTS = {"cronsim", "click", "rich", "tzdata"}
EXTRA_DISTRIBUTIONS = {
    "dashboard": {"fastapi", "starlette", "jinja2", "pydantic", "uvicorn", "argon2-cffi"},
    "others": {"boto3", "pypdf", "python-docx", "psycopg", "psycopg-binary", "aiosmtpd"},
}
SAMPLE_APP = Path(__file__).with_name("sample_app.py")
SAMPLE_JOBS = 12  # enqueued by sample_app; its schedule adds one run
FAILED_JOBS = SAMPLE_JOBS // 3
# How sample_app's batch ends: every third job fails on both attempts; then the schedule's run.
EXPECTED_JOBS = [
    ["add", "succeeded", 1],
    ["greet", "succeeded", 1],
    ["charge_card", "failed", 2],
] * (SAMPLE_JOBS // 3) + [["nightly-report", "succeeded", 1]]
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROWS = "#job-table tr.job-row"


@dataclass(frozen=True)
class Installed:
    """A fresh venv and a folder holding the user's app (sample_app.py)."""

    venv: installs.Venv
    app: Path


def install(dists: installs.Dists, root: Path, extras: str = "") -> Installed:
    """The wheel, with ``extras``, in a fresh venv under ``root``; the user's app beside it."""
    venv = installs.make_venv(root / "venv", f"{dists.wheel}{extras}")
    app = root / "app"
    app.mkdir()
    shutil.copy(SAMPLE_APP, app)
    return Installed(venv, app)


def run_sample_app(installed: Installed, *database_url: str) -> dict[str, Any]:
    """sample_app's batch worked off by its worker, in the venv; what it reported."""
    venv = installed.venv
    done = installs.checked(
        venv.run(venv.python, "sample_app.py", str(SAMPLE_JOBS), *database_url, cwd=installed.app)
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture(scope="module")
def core(dists: installs.Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return install(dists, tmp_path_factory.mktemp("core"))


@pytest.fixture(scope="module")
def dashboard(dists: installs.Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return install(dists, tmp_path_factory.mktemp("dashboard"), "[dashboard]")


@pytest.fixture(scope="module")
def postgres(dists: installs.Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return install(dists, tmp_path_factory.mktemp("postgres"), "[postgres]")


@pytest.fixture
def empty_postgres_database() -> Iterator[str]:
    """A database with no schema at all: the installed package's migrations create it."""
    problem = pgtools.unavailable_reason()
    if problem:
        required_tool_missing(f"PostgreSQL unavailable: {problem}")
    name = f"jd_install_{uuid.uuid4().hex[:12]}"
    pgtools.create_database(name, "template0")
    try:
        yield pgtools.url_for(name)
    finally:
        pgtools.drop_database(name)


@pytest.fixture(scope="module")
def core_report(core: Installed) -> dict[str, Any]:
    return run_sample_app(core)


@pytest.fixture(scope="module")
def dashboard_report(dashboard: Installed) -> dict[str, Any]:
    """Also the dashboard's data: the chart and the task list show these jobs."""
    return run_sample_app(dashboard)


# -- the archives -------------------------------------------------------------------------------


def test_wheel_and_sdist_carry_the_vendored_javascript_and_the_license(
    dists: installs.Dists,
) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        in_wheel = {name: wheel.read(name) for name in wheel.namelist()}
    with tarfile.open(dists.sdist) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        in_sdist = set(sdist.getnames())
    source = installs.ROOT / "src" / VENDOR
    for name in VENDORED_JS:
        assert f"{top}/src/{VENDOR}/{name}" in in_sdist
        assert f"{VENDOR}/{name}" in in_wheel
        assert in_wheel[f"{VENDOR}/{name}"] == (source / name).read_bytes()
    assert f"{top}/LICENSE" in in_sdist
    (license_file,) = [name for name in in_wheel if name.endswith(".dist-info/licenses/LICENSE")]
    assert in_wheel[license_file] == (installs.ROOT / "LICENSE").read_bytes()


def test_the_wheel_holds_every_file_git_tracks_in_the_package_and_nothing_else(
    dists: installs.Dists,
) -> None:
    # A new data file (a template folder, a .sql dialect) missing from package-data shows here.
    tracked = {
        name.removeprefix("src/")
        for name in installs.tracked_files()
        if name.startswith("src/jobdeck/") and (installs.ROOT / name).exists()
    }
    with zipfile.ZipFile(dists.wheel) as wheel:
        packaged = {name for name in wheel.namelist() if not name.startswith("jobdeck-")}
    assert sorted(tracked - packaged) == []
    assert sorted(packaged - tracked) == []


def test_wheel_metadata_declares_the_license_the_extras_and_a_small_core(
    dists: installs.Dists,
) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = HeaderParser().parsestr(wheel.read(name).decode())
    assert metadata["License-Expression"] == "MIT"
    assert set(EXTRAS) <= set(metadata.get_all("Provides-Extra", []))
    unconditional = {
        requirement.split(">")[0].split("=")[0].split("[")[0].strip().lower()
        for requirement in metadata.get_all("Requires-Dist", [])
        if "extra ==" not in requirement
    }
    assert unconditional == CORE_REQUIREMENTS
    assert metadata["Version"] == __version__


# -- the installs: core, dashboard, postgres ----------------------------------------------------


def test_the_build_and_the_installs_run_with_no_node_on_path(
    core: Installed, dashboard: Installed
) -> None:
    build_path = installs.user_env(Path(sys.executable).parent)["PATH"]
    for path in (build_path, core.venv.env()["PATH"], dashboard.venv.env()["PATH"]):
        assert shutil.which("node", path=path) is None
        assert shutil.which("npm", path=path) is None
    for installed in (core, dashboard):
        path = installed.venv.env()["PATH"]
        assert shutil.which("jobdeck", path=path) == str(installed.venv.bin / "jobdeck")


def test_the_venvs_see_neither_the_dev_venv_nor_the_source_tree(
    core: Installed, dashboard: Installed
) -> None:
    for installed in (core, dashboard):
        venv = installed.venv
        done = installs.checked(
            venv.run(venv.python, "-c", "import json, sys; print(json.dumps(sys.path))")
        )
        paths = [Path(entry) for entry in json.loads(done.stdout) if entry]
        leaks = [
            p for p in paths if p.is_relative_to(sys.prefix) or p.is_relative_to(installs.ROOT)
        ]
        assert leaks == []


def test_the_core_install_brings_no_extra(core: Installed) -> None:
    installed = core.venv.distributions()
    assert set(installed) >= CORE_REQUIREMENTS | {"jobdeck"}
    unwanted = (EXTRA_DISTRIBUTIONS["dashboard"] | EXTRA_DISTRIBUTIONS["others"]) & set(installed)
    assert not unwanted


def test_the_dashboard_extra_brings_the_web_stack_only(dashboard: Installed) -> None:
    installed = set(dashboard.venv.distributions())
    assert installed >= EXTRA_DISTRIBUTIONS["dashboard"] | {"python-multipart"}
    assert not EXTRA_DISTRIBUTIONS["others"] & installed


@pytest.mark.parametrize("name", ["core", "dashboard"])
def test_a_worker_runs_the_users_tasks_and_loads_no_extra(
    name: str, request: pytest.FixtureRequest
) -> None:
    # In the dashboard venv the web stack is installed: only this check sees a stray import.
    installed: Installed = request.getfixturevalue(name)
    report: dict[str, Any] = request.getfixturevalue(f"{name}_report")
    assert Path(report["jobdeck"]).is_relative_to(installed.venv.path), "not the installed copy"
    assert report["worker_stopped"]
    assert report["jobs"] == EXPECTED_JOBS
    assert report["heavy"] == []


def test_the_postgres_extra_runs_the_worker_on_postgresql(
    postgres: Installed, empty_postgres_database: str
) -> None:
    assert not EXTRA_DISTRIBUTIONS["dashboard"] & set(postgres.venv.distributions())
    report = run_sample_app(postgres, empty_postgres_database)
    assert Path(report["jobdeck"]).is_relative_to(postgres.venv.path)
    assert report["jobs"] == EXPECTED_JOBS
    assert report["heavy"] == ["psycopg"]


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["dashboard"], "dashboard"),
        (["dashboard", "--app", "sample_app:deck"], "dashboard"),
        (["db", "migrate", "--database", PG_URL], "postgres"),
        (["demo"], "demo"),
    ],
    ids=["dashboard", "dashboard-app", "postgres", "demo"],
)
def test_a_part_without_its_extra_fails_in_one_line_naming_it(
    core: Installed, args: list[str], extra: str
) -> None:
    done = core.venv.run(core.venv.bin / "jobdeck", *args, cwd=core.app)
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ")
    assert line.endswith(f"pip install 'jobdeck[{extra}]'")


def test_version_is_the_packages(core: Installed, dists: installs.Dists) -> None:
    done = installs.checked(core.venv.run(core.venv.bin / "jobdeck", "--version"))
    assert done.stdout == f"jobdeck, version {__version__}\n"
    assert dists.wheel.name.startswith(f"jobdeck-{__version__}-")


# -- the dashboard install, in Chromium ----------------------------------------------------------


def wait_until_serving(url: str, server: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            raise AssertionError(
                f"jobdeck dashboard exited {server.returncode}:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"jobdeck dashboard did not answer within 30 s:\n{log.read_text()}"
            )
        time.sleep(0.1)


@pytest.fixture
def dashboard_url(dashboard: Installed, dashboard_report: dict[str, Any]) -> Iterator[str]:
    """``jobdeck dashboard --no-login`` from the dashboard venv, over sample_app's jobs."""
    port = free_port()
    log = dashboard.app / "dashboard.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                str(dashboard.venv.bin / "jobdeck"),
                "dashboard",
                "--no-login",
                "--port",
                str(port),
                "--app",
                "sample_app:deck",
            ],
            cwd=dashboard.app,
            env=dashboard.venv.env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/jobs", server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


# Pixels of the chart's canvas that anything was drawn on (uPlot draws into one canvas).
CANVAS_INK = """() => {
  const canvas = document.querySelector("#chart .uplot canvas");
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) ink++;
  return ink;
}"""
# Executions the chart plots per series: [succeeded, failed].
CHART_TOTALS = """() => document.getElementById("chart")._chart.data.slice(1)
  .map(series => series.reduce((sum, value) => sum + (value || 0), 0))"""


def test_the_installed_dashboard_filters_and_charts_in_a_browser(
    browser: Any, dashboard_url: str
) -> None:
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, timezone_id="UTC", locale="en-US"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    failed_responses: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: failed_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    try:
        with (
            page.expect_response(lambda r: urlsplit(r.url).path.endswith(VENDORED_JS[0])) as htmx,
            page.expect_response(lambda r: urlsplit(r.url).path.endswith(VENDORED_JS[1])) as uplot,
        ):
            page.goto(f"{dashboard_url}/jobs")
        for response in (htmx.value, uplot.value):
            assert urlsplit(response.url).path.startswith("/static/vendor/")
            assert response.status == 200, response.url
        expect(page.locator("#chart[data-ready]")).to_have_count(1)  # uPlot and app.js ran
        expect(page.locator("#health-pill")).not_to_have_text("Checking…")  # htmx ran
        expect(page.locator(".asset-warning")).to_have_count(0)
        expect(page.locator(ROWS)).to_have_count(SAMPLE_JOBS + 1)

        page.select_option("#f-status", "failed")
        expect(page.locator(ROWS)).to_have_count(FAILED_JOBS)
        expect(page.locator(f"{ROWS} .badge", has_not_text="Failed")).to_have_count(0)
        assert set(page.locator(f"{ROWS} td.task").all_inner_texts()) == {"charge_card"}

        page.wait_for_function(f"({CANVAS_INK})() > 0")
        succeeded, failed = page.evaluate(CHART_TOTALS)
        assert succeeded == SAMPLE_JOBS - FAILED_JOBS + 1
        assert failed == 2 * FAILED_JOBS  # executions: both attempts of each failing job
    finally:
        context.close()
    assert not errors, f"the page raised script errors: {errors}"
    assert not failed_responses, f"requests failed: {failed_responses}"
