"""The dashboard never stalls its host: mounted in a FastAPI app served by uvicorn, a dashboard
request whose store call waits (its tables locked by another PostgreSQL session) leaves the
event loop free, and the host's own route answers at once. One route at a time, every page,
API and documents route."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from jobdeck import JobDeck
from jobdeck.contrib.documents import LocalStorage, install_documents
from jobdeck.contrib.documents.web import documents_api, documents_pages
from jobdeck.store.base import WorkerInfo
from jobdeck.web import PERMISSIONS, Principal
from jobdeck.worker.scheduler import Scheduler

PREFIX = "/admin/jobs"
SCHEDULE = "app.tasks.nightly_report"
# The host's route must answer within this while a dashboard request waits on the database.
# It takes a few milliseconds; a handler on the loop holds it until the lock is released.
PING_LIMIT_S = 0.1
PING_TIMEOUT_S = 1.0
UPLOAD = {"files": ("cv.txt", b"expert in zymurgy", "text/plain")}

# (method, path under the mount, request keywords)
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/jobs", {}),
    ("GET", "/jobs?job=1", {}),
    ("GET", "/jobs/table", {}),
    ("GET", "/jobs/stats", {}),
    ("GET", "/jobs/1/drawer", {}),
    ("POST", "/jobs/1/cancel", {}),
    ("POST", "/jobs/1/retry", {}),
    ("GET", "/health", {}),
    ("GET", "/schedules", {}),
    ("GET", "/schedules/summary", {}),
    ("GET", f"/schedules/{SCHEDULE}/status?watch=1", {}),
    ("GET", f"/schedules/{SCHEDULE}/runs", {}),
    ("POST", f"/schedules/{SCHEDULE}/run", {}),
    ("POST", f"/schedules/{SCHEDULE}/pause", {}),
    ("POST", f"/schedules/{SCHEDULE}/resume", {}),
    ("GET", "/audit", {}),
    ("GET", "/admin/users", {}),
    (
        "POST",
        "/admin/users",
        {
            "data": {
                "action": "add",
                "email": "b@example.com",
                "password": "x" * 12,
                "role": "admin",
            }
        },
    ),
    ("GET", "/admin/tokens", {}),
    ("POST", "/admin/tokens", {"data": {"action": "create", "name": "ci", "role": "admin"}}),
    ("GET", "/documents", {}),
    ("GET", "/documents/search?q=zymurgy", {}),
    ("POST", "/documents", {"data": {"owner_id": "expert-1"}, "files": UPLOAD}),
    ("POST", "/documents/1/reprocess", {}),
    ("GET", "/api/health", {}),
    ("GET", "/api/workers", {}),
    ("GET", "/api/jobs", {}),
    ("GET", "/api/jobs/1", {}),
    ("POST", "/api/jobs/1/cancel", {}),
    ("GET", "/api/stats", {}),
    ("GET", "/api/schedules", {}),
    ("GET", f"/api/schedules/{SCHEDULE}", {}),
    ("POST", f"/api/schedules/{SCHEDULE}/run", {}),
    ("POST", f"/api/schedules/{SCHEDULE}/pause", {}),
    ("GET", "/api/audit", {}),
    ("GET", "/api/users", {}),
    ("GET", "/api/tokens", {}),
    ("POST", "/api/tokens", {"json": {"name": "ci2", "role": "admin"}}),
    ("GET", "/api/search?q=zymurgy", {}),
    ("GET", "/api/documents", {}),
    ("GET", "/api/documents/1", {}),
    ("POST", "/api/documents", {"data": {"owner_id": "expert-2"}, "files": UPLOAD}),
    ("DELETE", "/api/documents/1", {}),
]


def as_admin(request: object) -> Principal:
    """The host's login (synchronous, no store: jobdeck runs it in the threadpool)."""
    return Principal("host-user", "host@example.com", "admin", frozenset(PERMISSIONS))


@dataclass
class Host:
    url: str
    database_url: str


class Server:
    """uvicorn on 127.0.0.1 and a free port, on a thread: one event loop, as in production."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, lifespan="off", log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def host(db_url: str, tmp_path: Path) -> Iterator[Host]:
    deck = JobDeck(db_url)
    deck.periodic(name=SCHEDULE, cron="0 3 * * *")(lambda: {"done": True})
    deck.task(name="send_email")(lambda to: {"sent": True})
    Scheduler(deck).sync()
    deck.tasks["send_email"].enqueue(to="a@example.com")
    now = deck.clock.now()  # a live worker: /api/health answers 200, not its documented 503
    deck.store.register_worker(WorkerInfo("w1", "host", 1, ["default"], 1, now, now))
    documents = install_documents(deck, LocalStorage(tmp_path / "files"), index_delay=60)
    documents.upload("expert-0", "cv.txt", b"expert in zymurgy", uploaded_by="test")

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> PlainTextResponse:
        return PlainTextResponse("pong")

    dashboard = deck.asgi(
        authorize=as_admin, extra_routers=[documents_pages(documents), documents_api(documents)]
    )
    app.mount(PREFIX, dashboard)
    try:
        with Server(app) as url:
            yield Host(url, db_url)
    finally:
        documents.close()
        deck.close()


class TableLock:
    """Another session holding every table of the database: each store call waits for it."""

    def __init__(self, database_url: str) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        rows = self.conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        self.tables = ", ".join(row[0] for row in rows)

    def hold(self) -> None:
        self.conn.execute("BEGIN")
        self.conn.execute(f"LOCK TABLE {self.tables} IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")

    def wait_for_a_waiter(self, timeout: float) -> bool:
        """Until a store call of the dashboard is blocked on the lock."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = self.conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0] > 0:
                return True
            time.sleep(0.005)
        return False

    def close(self) -> None:
        self.conn.close()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_waiting_store_call_leaves_the_host_app_responsive(host: Host) -> None:
    with (
        httpx2.Client(base_url=host.url + PREFIX, timeout=30) as dashboard,
        httpx2.Client(base_url=host.url, timeout=PING_TIMEOUT_S) as pinger,
    ):
        latencies, problems = ping_during_each_route(host, dashboard, pinger)
    slow = {route: round(s, 3) for route, s in latencies.items() if s > PING_LIMIT_S}
    timings = sorted(latencies.values())
    print(  # the numbers behind the assertion, for -s runs
        f"host /ping while a dashboard store call waited: median "
        f"{statistics.median(timings) * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms "
        f"over {len(timings)} routes"
    )
    assert not slow, f"the host's route waited behind dashboard handlers: {slow}"
    assert not problems, problems
    assert len(latencies) == len(ROUTES)


def ping_during_each_route(
    host: Host, dashboard: httpx2.Client, pinger: httpx2.Client
) -> tuple[dict[str, float], list[str]]:
    """For each route: lock, send it, wait until its store call blocks, time a host request,
    release, and check the route's answer."""
    dashboard.get("/jobs").raise_for_status()  # the double-submit CSRF cookie
    dashboard.headers["X-CSRF-Token"] = str(dashboard.cookies.get("jobdeck_csrf"))
    pinger.get("/ping").raise_for_status()
    lock = TableLock(host.database_url)
    latencies: dict[str, float] = {}
    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=1) as background:
        for method, path, kwargs in ROUTES:
            route = f"{method} {path}"
            lock.hold()
            try:
                answer = background.submit(dashboard.request, method, path, **kwargs)
                if not lock.wait_for_a_waiter(5):
                    problems.append(f"{route}: never reached the store")
                started = time.perf_counter()
                try:
                    pinger.get("/ping").raise_for_status()
                    latencies[route] = time.perf_counter() - started
                except httpx2.TimeoutException:
                    latencies[route] = float("inf")
            finally:
                lock.release()
            status = answer.result(timeout=30).status_code
            if status >= 500:
                problems.append(f"{route}: {status}")
            if len([s for s in latencies.values() if s > PING_LIMIT_S]) >= 3:
                break  # the loop is held: no need to time out on every route
    lock.close()
    return latencies, problems
