"""``--log-format json`` and the log_format setting: a real worker process logs one JSON object
per line, and the lines logged while a job runs (the task's own too) carry the job."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from jobdeck import ConfigError, Settings
from jobdeck.logs import JsonFormatter, job_context
from jobdeck.states import JobState
from jobdeck.store import open_store
from tests.cli import log_app
from tests.worker.helpers import ROOT, count_in, wait_until


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()]


def test_a_worker_logs_one_json_object_per_line_with_the_job(db_url: str, tmp_path: Path) -> None:
    log_app.deck.use_database(db_url, "code")
    try:
        jobs = [
            log_app.chatty.enqueue(word="hello"),
            log_app.chatty_async.enqueue(word="there"),
            log_app.chatty_process.enqueue(word="child"),
            log_app.fails.enqueue(),
        ]
    finally:
        log_app.deck.close()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    env = {k: v for k, v in os.environ.items() if k != "JOBDECK_DATABASE_URL"}
    command = [sys.executable, "-m", "jobdeck", "worker", "--app", "tests.cli.log_app:deck"]
    command += ["--database", db_url, "--log-format", "json"]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
    store = open_store(db_url)
    try:
        final = (JobState.SUCCEEDED, JobState.FAILED)
        wait_until(lambda: count_in(store, *final) == 4 or proc.poll() is not None, 30, "jobs")
        assert proc.poll() is None, err.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        store.close()

    entries = [json.loads(line) for line in _lines(out) + _lines(err)]  # every line is JSON
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert entry["time"].endswith("+00:00")
    by_message = {entry["message"]: entry for entry in entries}
    ids = {handle.id for handle in jobs}
    for message, task in [
        ("saying hello", "chatty"),
        ("async there", "chatty_async"),
        ("from a child process: child", "chatty_process"),
    ]:
        entry = by_message[message]
        assert entry["task"] == task and entry["job_id"] in ids, entry
        assert entry["attempt"] == 1 and entry["queue"] == "default"
        assert entry["worker_id"].split(":")[1] == str(proc.pid)
    caught = by_message["caught it"]
    assert caught["level"] == "ERROR" and "ValueError: hello" in caught["exc_info"]
    failed = next(e for e in entries if "attempt 1 failed" in e["message"])
    assert failed["task"] == "fails" and failed["logger"].startswith("jobdeck")
    # The worker's own lines outside a job carry no job.
    assert any("job_id" not in entry and entry["logger"].startswith("jobdeck") for entry in entries)


def _record(message: str, exc: bool = False) -> logging.LogRecord:
    if not exc:
        return logging.LogRecord("app", logging.INFO, __file__, 1, message, None, None)
    try:
        raise KeyError("k")
    except KeyError:
        return logging.LogRecord("app", logging.ERROR, __file__, 1, message, None, sys.exc_info())


def test_the_formatter_adds_extra_fields_the_job_and_the_trace() -> None:
    trace = pytest.importorskip("opentelemetry.trace")
    span = trace.NonRecordingSpan(
        trace.SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=trace.TraceFlags(1))
    )
    record = _record("hi")
    record.order_id = 42  # as logging's extra= sets it
    plain = json.loads(JsonFormatter().format(record))
    assert plain["order_id"] == 42 and "job_id" not in plain and "trace_id" not in plain
    with job_context(job_id=7, task="t", attempt=2), trace.use_span(span):
        tagged = json.loads(JsonFormatter().format(_record("hi", exc=True)))
    assert (tagged["job_id"], tagged["task"], tagged["attempt"]) == (7, "t", 2)
    assert (tagged["trace_id"], tagged["span_id"]) == (f"{0xABC:032x}", f"{0xDEF:016x}")
    assert "KeyError" in tagged["exc_info"]
    assert "job_id" not in json.loads(JsonFormatter().format(_record("after")))


def test_log_format_setting_is_checked() -> None:
    assert Settings().log_format == "text"
    assert Settings.build(environ={"JOBDECK_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(ConfigError, match="log_format must be text or json"):
        Settings.build(environ={"JOBDECK_LOG_FORMAT": "xml"})


def test_the_option_is_offered_and_checked() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jobdeck", "worker", "--log-format", "xml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and "'xml' is not one of 'text', 'json'" in done.stderr


def test_the_setting_makes_the_dashboard_log_json_uvicorn_included(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    from tests.cli.test_dashboard_proxies import free_port

    database = f"sqlite:///{tmp_path / 'jobs.db'}"
    port = free_port()
    env = {**os.environ, "JOBDECK_LOG_FORMAT": "json"}
    env.pop("JOBDECK_DATABASE_URL", None)
    command = [sys.executable, "-m", "jobdeck", "dashboard", "--no-login", "--port", str(port)]
    subprocess.run([*command[:3], "db", "migrate", "--database", database], check=True, env=env)
    server = subprocess.Popen(
        [*command, "--database", database],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def answered() -> bool:
            assert server.poll() is None, "the dashboard exited"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).close()
            except (urllib.error.URLError, ConnectionError):
                return False
            return True

        wait_until(answered, 20, "the dashboard to answer")
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    loggers = {entry["logger"] for entry in entries}
    assert {"jobdeck.dashboard", "uvicorn.error", "uvicorn.access"} <= loggers, output
    assert not any("color_message" in entry for entry in entries)


def test_a_child_started_without_a_format_logs_like_its_parent(tmp_path: Path) -> None:
    """Document extractors call prepare_child(level) alone: they log JSON under a JSON worker."""
    code = """
import logging, multiprocessing
from jobdeck.logs import prepare_child, setup_logging

def child():
    prepare_child(logging.INFO)
    logging.getLogger("child").warning("damaged file")

if __name__ == "__main__":
    setup_logging("INFO", "json")
    process = multiprocessing.get_context("forkserver").Process(target=child)
    process.start()
    process.join(20)
"""
    script = tmp_path / "parent.py"  # a file: the forkserver child imports its __main__
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k != "JOBDECK_LOG_FORMAT"}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [entry] = [json.loads(line) for line in done.stderr.splitlines()]
    assert (entry["logger"], entry["message"]) == ("child", "damaged file")
