"""Tasks that log, for the JSON log tests: ``jobdeck worker --app tests.cli.log_app:deck``."""

from __future__ import annotations

import logging

from jobdeck import JobDeck

log = logging.getLogger("tests.cli.log_app")
deck = JobDeck(
    None, heartbeat_interval=0.2, lease_duration=2.0, poll_interval=0.05, shutdown_grace=5.0
)


@deck.task(name="chatty")
def chatty(word: str) -> str:
    log.info("saying %s", word)
    try:
        raise ValueError(word)
    except ValueError:
        log.exception("caught it")
    return word


@deck.task(name="chatty_async")
async def chatty_async(word: str) -> str:
    log.info("async %s", word)
    return word


@deck.task(name="chatty_process", executor="process")
def chatty_process(word: str) -> str:
    log.warning("from a child process: %s", word)
    return word


@deck.task(name="fails", max_attempts=1)
def fails() -> None:
    raise RuntimeError("no luck")
