"""The demo's host application for the browser tests: the demo deck on a fresh database,
seeded as ``jobdeck demo`` seeds it, its five scheduled jobs run once by a real worker, the
demo's own SMTP server, and the host app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from playwright.sync_api import Page, expect

from jobdeck.demo import app, data, run
from jobdeck.demo.app import SMTP_ENV
from jobdeck.demo.host import create_host
from jobdeck.demo.mail import DemoMailServer
from jobdeck.demo.views import LITIGATION_JOBS
from jobdeck.states import FINAL_STATES
from jobdeck.worker.scheduler import Scheduler
from tests.browser.harness import LiveServer, RunningWorker, wait_until


@dataclass
class DemoSite:
    url: str
    passwords: dict[str, str]  # email -> password, as `jobdeck demo` prints them

    def sign_in(self, page: Page, role: str, start: str = "/login") -> None:
        """Through the host's sign-in form, as a person does; lands on ``start``'s target."""
        page.goto(self.url + start)
        page.get_by_label("Email").fill(f"{role}@demo.jobdeck")
        page.get_by_label("Password").fill(self.passwords[f"{role}@demo.jobdeck"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_label(f"Profile menu of Demo {role.capitalize()}")).to_be_visible()

    def db(self) -> Any:
        return app.db()


def run_and_wait(name: str) -> int:
    """Run Now on a schedule from the test and wait until that run finished."""
    job, _ = app.deck.run_now(name, by="browser test")

    def finished() -> bool:
        row = app.deck.store.get_job(job.id)
        return row is not None and row.state in FINAL_STATES

    wait_until(finished, 30, f"{name} to finish")
    return job.id


@contextmanager
def demo_site(url: str) -> Iterator[DemoSite]:
    deck = app.deck
    deck.use_database(url)
    app.db.cache_clear()
    previous_smtp = os.environ.get(SMTP_ENV)
    mail: DemoMailServer | None = None
    worker: RunningWorker | None = None
    server: LiveServer | None = None
    try:
        deck.migrate()
        app.db().create_tables()
        data.seed(app.db(), deck.clock.now())
        data.seed_history(app.db(), deck.clock.now())
        passwords = run.demo_accounts()
        mail = DemoMailServer(app.db(), deck.clock).start()
        os.environ[SMTP_ENV] = mail.address
        # Synced, never ticking by itself: a */15 tick mid-test would change the counts.
        Scheduler(deck).sync()
        worker = RunningWorker(deck, scheduler_enabled=False).start()
        for name in LITIGATION_JOBS:
            run_and_wait(name)
        # The tests press Run Now seconds after these runs, where a person would wait out the
        # cooldown (tests/browser/test_run_now.py covers it): the served definitions have none.
        no_cooldown = [
            replace(s.definition(), run_now_cooldown_seconds=0) for s in deck.schedules.values()
        ]
        deck.store.sync_schedules(no_cooldown, deck.clock.now())
        server = LiveServer(create_host(health_refresh=1, live_refresh=2)).start()
        yield DemoSite(server.url, passwords)
    finally:
        if server is not None:
            server.stop()
        if worker is not None:
            worker.stop()
        if mail is not None:
            mail.stop()
        if previous_smtp is None:
            os.environ.pop(SMTP_ENV, None)
        else:
            os.environ[SMTP_ENV] = previous_smtp
        deck.close()
        app.db.cache_clear()
