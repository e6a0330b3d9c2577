"""``jobdeck demo``: migrate, seed, and run worker + scheduler + dashboard + SMTP in one process,
with a light stream of realistic jobs, until Ctrl-C."""

from __future__ import annotations

import logging
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobdeck import accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.demo.app import SMTP_ENV, db, deck, documents, send_claim_verification_email
from jobdeck.demo.data import seed, seed_history
from jobdeck.demo.litigation import PACE_ENV
from jobdeck.demo.mail import REFUSED_DOMAIN, DemoMailServer
from jobdeck.demo.samples import certificate_docx, corrupt_pdf, cv_pdf, encrypted_pdf, sample_upload

log = logging.getLogger("jobdeck.demo")
DEMO_FOLDER = Path("demo-data")
DEMO_ROLES = ["admin", "partner", "attorney", "manager", "ca", "advocate", "user"]


@dataclass(frozen=True)
class DemoOptions:
    database: str | None = None
    reset: bool = False
    traffic: bool = True
    duration: float | None = None
    workers: int = 1
    host: str = "127.0.0.1"
    port: int = 8000


def run_demo(options: DemoOptions) -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-message chatter
    os.environ.setdefault(PACE_ENV, "1")  # jobs take seconds, as real ones do; workers inherit it
    url = _prepare_database(options)
    passwords = demo_accounts()
    mail = DemoMailServer(db(), deck.clock).start()
    os.environ[SMTP_ENV] = mail.address
    server, server_thread = _start_dashboard(options)
    extra = [_spawn_worker(url) for _ in range(max(0, options.workers - 1))]
    _announce(options, url, passwords, mail)
    _first_runs()
    stop = threading.Event()
    if options.traffic:
        threading.Thread(target=_traffic, args=(stop,), name="demo-traffic", daemon=True).start()
    worker = deck.worker()
    if options.duration is not None:
        threading.Timer(options.duration, worker.stop).start()
    try:
        worker.run()
    finally:
        stop.set()
        for process in extra:
            process.send_signal(signal.SIGTERM)
        server.should_exit = True
        server_thread.join(10)
        for process in extra:
            process.wait(30)
        mail.stop()
        log.info("demo stopped; start it again to continue with the same data")


def _prepare_database(options: DemoOptions) -> str:
    url = options.database
    if url is None:
        if options.reset and DEMO_FOLDER.exists():
            shutil.rmtree(DEMO_FOLDER)
        DEMO_FOLDER.mkdir(exist_ok=True)
        url = f"sqlite:///{DEMO_FOLDER / 'jobdeck.db'}"
    elif options.reset:
        _reset_server_database(url)
    deck.use_database(url)
    applied = deck.migrate()
    log.info("database %s%s", url, f" (migrated: {', '.join(applied)})" if applied else "")
    db.cache_clear()
    db().create_tables()
    seed(db(), deck.clock.now())
    seed_history(db(), deck.clock.now())
    _seed_documents()
    return url


def _seed_documents() -> None:
    """First start: a CV or certificate for a dozen experts, one corrupt, one locked."""
    if db().rows("SELECT COUNT(*) AS n FROM expert_documents")[0]["n"]:
        return
    rng = random.Random(7)
    for expert in range(1, 13):
        name = f"Expert {expert}"
        filename, data = (
            ("cv.pdf", cv_pdf(name, rng))
            if expert % 3
            else ("certificate.docx", certificate_docx(name, rng))
        )
        documents.upload(str(expert), filename, data, uploaded_by="jobdeck demo")
    documents.upload("13", "scan-interrupted.pdf", corrupt_pdf(), uploaded_by="jobdeck demo")
    documents.upload(
        "14", "locked-cv.pdf", encrypted_pdf("Expert 14", rng), uploaded_by="jobdeck demo"
    )


def _reset_server_database(url: str) -> None:
    import psycopg

    log.warning("--reset: dropping every table in %s", url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def demo_accounts() -> dict[str, str]:
    """One account per role, with a password made for this run (printed once)."""
    policy, actor = AccessPolicy(), Actor("jobdeck demo", "admin")
    passwords = {}
    for role in DEMO_ROLES:
        email, password = f"{role}@demo.jobdeck", secrets.token_urlsafe(9)
        if deck.store.find_user(email) is None:
            accounts.add_user(
                deck.store,
                deck.clock,
                policy,
                actor,
                email,
                password,
                role,
                f"Demo {role.capitalize()}",
            )
        else:
            accounts.reset_password(deck.store, deck.clock, actor, email, password)
        passwords[email] = password
    return passwords


def _first_runs() -> None:
    """Run each schedule that never ran, so the cards show results within a minute."""
    from jobdeck.control.schedules import schedule_statuses
    from jobdeck.worker.scheduler import Scheduler

    Scheduler(deck).sync()
    for status in schedule_statuses(deck):
        if status.active and status.last_run_at is None:
            deck.run_now(status.name, by="jobdeck demo (first run)")


def _start_dashboard(options: DemoOptions) -> tuple[Any, threading.Thread]:
    import uvicorn

    from jobdeck.demo.host import create_host

    app = create_host()
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level="warning",
        lifespan="off",
        ws="none",
        proxy_headers=False,  # trusted_proxies decides, as in `jobdeck dashboard`
    )
    server = uvicorn.Server(config)
    # Off the main thread uvicorn leaves signals alone; the worker handles Ctrl-C.
    thread = threading.Thread(target=server.run, name="demo-dashboard", daemon=True)
    thread.start()
    return server, thread


def _spawn_worker(url: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "jobdeck",
        "worker",
        "--app",
        "jobdeck.demo.app:deck",
        "--database",
        url,
        "--no-scheduler",
    ]
    return subprocess.Popen(command, env=dict(os.environ))


def _announce(
    options: DemoOptions, url: str, passwords: dict[str, str], mail: DemoMailServer
) -> None:
    lines = [
        "",
        f"  jobdeck demo is running: http://{options.host}:{options.port}/",
        f"  database: {url}   demo SMTP server: {mail.address}",
        f"  workers: {options.workers} process(es); Ctrl-C stops (running jobs finish first)",
        "",
        "  sign in with (passwords made for this run):",
        *[f"    {email:<26} {password}" for email, password in passwords.items()],
        "",
        "  the litigation desk: Home, Tasks, Analytics and Help for every role; admin and",
        "  partner: profile icon -> Dev Mode -> Dev Dashboard -> Background Jobs (jobdeck,",
        f"  mounted at http://{options.host}:{options.port}/dev/jobs/).",
        "",
    ]
    print("\n".join(lines), flush=True)


def _traffic(stop: threading.Event) -> None:
    """A realistic mix every few seconds; a few percent fail the way real jobs fail."""
    rng = random.Random()
    while not stop.wait(rng.uniform(1.5, 4.0)):
        try:
            _one_burst(rng)
        except Exception as exc:  # the demo keeps going whatever a burst meets
            log.warning("traffic: %s", exc)


def _one_burst(rng: random.Random) -> None:
    now = deck.clock.now()
    bad = rng.random() < 0.06
    email = f"new{rng.randint(1000, 9999)}@{REFUSED_DOMAIN if bad else 'experts.example'}"
    with db().transaction() as conn:
        cursor = db().execute_in(
            conn,
            "INSERT INTO experts (name, email, claim_verified, "
            "created_at) VALUES (:name, :email, 0, :now) RETURNING id",
            {"name": email.split("@")[0], "email": email, "now": now},
        )
        expert_id = cursor.fetchone()[0]
    send_claim_verification_email.options(labels={"user_id": expert_id, "email": email}).enqueue(
        expert_id=expert_id
    )
    if rng.random() < 0.15:
        deck.run_now("check_trial_reminders", by="demo traffic")
    if rng.random() < 0.35:
        owner = rng.randint(1, 30)
        filename, data = sample_upload(rng, f"Expert {owner}")
        documents.upload(str(owner), filename, data, uploaded_by="demo traffic")
