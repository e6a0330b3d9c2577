"""`jobdeck demo` as a newcomer runs it: a subprocess on a fresh folder, signed in as each role."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.ports import free_port

LITIGATION_JOBS = {
    "check-sla-and-overdue": {"overdue_tasks", "sla_violations", "automation_rules_triggered"},
    "send-hearing-reminders": {"hearings_processed", "notifications_sent", "failed_notifications"},
    "capture-analytics-snapshot": {"tenants", "metrics_written"},
    "send-deadline-alerts": {"tasks_due_soon", "alerts_sent"},
    "automation-health-check": {"rules_checked", "rules_without_recent_activity"},
}
pytestmark = pytest.mark.slow


@dataclass
class Demo:
    process: subprocess.Popen[str]
    url: str
    passwords: dict[str, str]
    folder: Path
    output: list[str]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=10)
        self.clients.append(client)
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/login",
            data={
                "email": f"{role}@demo.jobdeck",
                "password": self.passwords[f"{role}@demo.jobdeck"],
                "csrf_token": token,
            },
        )
        assert response.status_code == 303, response.text
        return client


def start_demo(folder: Path) -> Demo:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "jobdeck", "demo", "--port", str(port)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Jobs take a tenth of their realistic seconds here: the path runs, the suite stays fast.
        env={**os.environ, "PYTHONUNBUFFERED": "1", "JOBDECK_DEMO_PACE": "0.1"},
    )
    output: list[str] = []
    passwords: dict[str, str] = {}
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("demo exited early:\n" + "".join(output))
        output.append(line)
        found = re.match(r"\s+(\w+@demo\.jobdeck)\s+(\S+)", line)
        if found:
            passwords[found.group(1)] = found.group(2)
        if len(passwords) == 7:
            break
    # Keep reading its log so a full pipe never blocks the demo.
    threading.Thread(target=_drain, args=(process, output), daemon=True).start()
    demo = Demo(process, f"http://127.0.0.1:{port}", passwords, folder, output)
    _wait(lambda: _answers(demo.url), 30, "the dashboard never answered")
    return demo


def _drain(process: subprocess.Popen[str], output: list[str]) -> None:
    assert process.stdout is not None
    try:
        for line in process.stdout:
            output.append(line)
    except (ValueError, OSError):
        pass  # the test closed the pipe after the demo exited


def stop_demo(demo: Demo) -> int:
    for client in demo.clients:
        client.close()
    demo.process.send_signal(signal.SIGINT)
    try:
        return demo.process.wait(30)
    finally:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait(5)
        if demo.process.stdout is not None:
            demo.process.stdout.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(predicate, timeout: float, message: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(message)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = start_demo(tmp_path_factory.mktemp("demo"))
    yield running
    if running.process.poll() is None:
        stop_demo(running)


def test_accounts_and_roles(demo: Demo) -> None:
    assert len(demo.passwords) == 7
    attorney = demo.client("attorney")
    assert attorney.get("/documents/search", params={"q": "appeals"}).status_code == 200
    assert attorney.get("/jobs").status_code == 403
    for role in ("admin", "partner"):
        client = demo.client(role)
        assert client.get("/jobs").status_code == 200
        assert client.get("/schedules").status_code == 200
    for role in ("manager", "ca", "advocate", "user"):
        page = demo.client(role).get("/jobs")
        assert page.status_code == 403 and "have access to background jobs" in page.text.replace(
            "&#39;", "'"
        )


def test_traffic_shows_executions_within_a_minute(demo: Demo) -> None:
    client = demo.client("partner")

    def executed() -> bool:
        stats = client.get("/api/stats", params={"period": "1h"}).json()
        names = {row["task"] for row in stats["by_task"]}
        return stats["total"] > 0 and "send_claim_verification_email" in names

    _wait(executed, 60, "no executions from the traffic generator within 60 s")
    assert "send_claim_verification_email" in client.get("/jobs").text


def test_run_now_on_each_scheduled_job_completes_with_its_fields(demo: Demo) -> None:
    client = demo.client("admin")
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/jobs").text).group(1)  # type: ignore[union-attr]
    for name, fields in LITIGATION_JOBS.items():
        job_id = client.post(f"/api/schedules/{name}/run", headers={"X-CSRF-Token": csrf}).json()[
            "job_id"
        ]

        def finished(job_id: int = job_id) -> bool:
            job = client.get(f"/api/jobs/{job_id}").json()["job"]
            return job["state"] in ("succeeded", "failed")

        _wait(finished, 30, f"{name} did not finish")
        job = client.get(f"/api/jobs/{job_id}").json()["job"]
        assert job["state"] == "succeeded", job["error"]
        assert fields <= set(job["result"]) and job["summary"], job["result"]


def test_documents_are_processed_and_searchable_with_their_failures(demo: Demo) -> None:
    client = demo.client("admin")

    def settled() -> bool:
        failed = client.get("/api/jobs", params={"task": "process_document", "status": "failed"})
        ready = client.get("/api/documents", params={"status": "ready"})
        return len(failed.json()["jobs"]) >= 2 and bool(ready.json()["documents"])

    _wait(settled, 60, "the seeded documents were not processed")
    failed = client.get("/api/jobs", params={"task": "process_document", "status": "failed"})
    errors = " ".join(job["error"] or "" for job in failed.json()["jobs"])
    assert "corrupt PDF" in errors and "password-protected" in errors
    hits = client.get("/api/search", params={"q": "tribunals"}).json()["results"]
    assert hits, "no expert found by a word inside their CV"


def test_hearing_reminders_send_real_mail_and_count_unreachable_people(demo: Demo) -> None:
    client = demo.client("admin")
    runs = client.get("/api/schedules/send-hearing-reminders").json()["runs"]
    done = [r for r in runs if r["state"] == "succeeded"]
    assert done, runs
    result = done[0]["result"]
    assert result["hearings_processed"] > 0 and result["notifications_sent"] > 0
    mail = client.get("/demo/mail")
    assert mail.status_code == 200 and "Hearing GST/" in mail.text
    audit = client.get("/api/audit", params={"action": "notification_sent"}).json()["rows"]
    assert len(audit) >= result["notifications_sent"]
    # Rohit Gupta has neither email nor phone: his hearing tomorrow is a counted failure.
    assert result["failed_notifications"] >= 1


def test_ctrl_c_stops_and_a_restart_keeps_the_data(demo: Demo) -> None:
    client = demo.client("admin")
    before = client.get("/api/jobs", params={"limit": 1}).json()["jobs"][0]["id"]
    started = time.monotonic()
    assert stop_demo(demo) == 0
    assert time.monotonic() - started < 20
    again = start_demo(demo.folder)
    try:
        latest = again.client("admin").get("/api/jobs", params={"limit": 200}).json()["jobs"]
        assert any(job["id"] == before for job in latest) or latest[0]["id"] >= before
    finally:
        assert stop_demo(again) == 0
