"""Plumbing for the browser tests: a uvicorn server and jobdeck workers on background threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn

from jobdeck import JobDeck
from jobdeck.states import FINAL_STATES, JobState
from jobdeck.store.base import JobFilter
from jobdeck.worker import Worker
from tests.browser.apps import WORKER_HEARTBEAT

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """Poll the store (not the page) until ``predicate`` holds; fail loudly past ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def unfinished(deck: JobDeck) -> int:
    states = frozenset(set(JobState) - FINAL_STATES)
    return deck.store.count_jobs(JobFilter(states=states))


class LiveServer:
    """``app`` served by uvicorn on 127.0.0.1 and a free port, on a daemon thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            ws="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self.url = ""

    def start(self) -> LiveServer:
        self.thread.start()
        wait_until(lambda: self.server.started, 15, "uvicorn to start")
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class RunningWorker:
    """``deck.worker(...).run(install_signals=False)`` on a thread, stoppable from the test."""

    def __init__(
        self, deck: JobDeck, heartbeat_interval: float = WORKER_HEARTBEAT, **overrides: Any
    ) -> None:
        self.worker: Worker = deck.worker(heartbeat_interval=heartbeat_interval, **overrides)
        self.thread = threading.Thread(
            target=self.worker.run, kwargs={"install_signals": False}, daemon=True
        )

    def start(self) -> RunningWorker:
        self.thread.start()
        if not self.worker.wait_started(15):
            raise AssertionError("worker did not start within 15 s")
        return self

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(15)
        if self.thread.is_alive():
            raise AssertionError("worker thread did not stop within 15 s")


def click_sending(page: Any, button: Any, action: str) -> None:
    """Click ``button`` until the click sends its POST to ``.../{action}``: a schedule card's
    status block is swapped by its live refresh, and a click (or a confirmed click) that lands
    as the old block leaves sends nothing (seen on a loaded machine: no request, no toast in
    15 s). A click that did send is never repeated, so the action is asked for once."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for _ in range(3):
        try:
            with page.expect_request(
                lambda r: r.method == "POST" and r.url.endswith(action), timeout=5_000
            ):
                button.click()
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"three clicks sent no POST .../{action}")
