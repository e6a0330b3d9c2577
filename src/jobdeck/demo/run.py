"""``jobdeck demo``: migrate, start a worker, and enqueue a realistic mix every few seconds."""

from __future__ import annotations

import logging
import random
import shutil
import threading
from pathlib import Path

from jobdeck.demo.app import (
    check_trial_reminders,
    deck,
    process_document,
    process_trial_expirations,
    send_claim_verification_email,
)

log = logging.getLogger("jobdeck.demo")
DEMO_FOLDER = Path("demo-data")


def run_demo(database: str | None, *, reset: bool, traffic: bool, duration: float | None) -> None:
    if database is None:
        if reset and DEMO_FOLDER.exists():
            shutil.rmtree(DEMO_FOLDER)
        DEMO_FOLDER.mkdir(exist_ok=True)
        database = f"sqlite:///{DEMO_FOLDER / 'jobdeck.db'}"
    deck.use_database(database)
    applied = deck.migrate()
    log.info("database %s%s", database, f" (migrated: {', '.join(applied)})" if applied else "")
    worker = deck.worker(
        concurrency=4, heartbeat_interval=2.0, lease_duration=10.0, shutdown_grace=10.0
    )
    stop = threading.Event()
    if traffic:
        threading.Thread(target=_traffic, args=(stop,), name="demo-traffic", daemon=True).start()
        log.info("enqueuing example jobs every few seconds (--no-traffic to stop)")
    if duration is not None:
        threading.Timer(duration, worker.stop).start()
    log.info("Ctrl-C to stop; in another terminal: jobdeck jobs list --database %s", database)
    try:
        worker.run()
    finally:
        stop.set()


def _traffic(stop: threading.Event) -> None:
    user = 1000
    while not stop.is_set():
        user += 1
        send_claim_verification_email.options(
            labels={"user_id": user, "email": f"expert{user}@example.com"}
        ).enqueue(user_id=user, email=f"expert{user}@example.com")
        if random.random() < 0.3:
            check_trial_reminders.enqueue()
        if random.random() < 0.2:
            process_trial_expirations.enqueue()
        if random.random() < 0.5:
            name = random.choice(["cv.pdf", "certificate.pdf", "profile.docx"])
            process_document.options(labels={"owner_id": user, "filename": name}).enqueue(
                document_id=user * 10, filename=name
            )
        stop.wait(random.uniform(1.0, 3.0))
