"""Every operator action is audited where it happens: done, refused or failed, whoever asked.

The web pages, the REST API, the CLI and code calling the deck all go through `audited`, so
the audit log cannot miss an action because one caller forgot to write its row.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import socket
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from jobdeck.auditlog import Actor, audit
from jobdeck.clock import Clock
from jobdeck.errors import JobDeckError
from jobdeck.store.base import Store

T = TypeVar("T")
log = logging.getLogger("jobdeck.audit")

# Suffixes of the action type for actions that did not happen: refused is a JobDeckError (the
# job was not in a state that allows it, the name is unknown), failed is anything else.
REFUSED = "_refused"
FAILED = "_failed"


def audited(
    store: Store,
    clock: Clock,
    actor: Actor,
    action: str,
    target: str,
    operation: Callable[[], T],
    *,
    details: Callable[[T], Mapping[str, Any]] = lambda _: {},
    reason: str | None = None,
) -> T:
    """Run ``operation`` and record it: ``action`` when it succeeded, with ``details`` of its
    result; ``action_refused`` / ``action_failed`` with the error when it raised."""
    context = _context(actor, reason)
    try:
        result = operation()
    except JobDeckError as exc:
        _record_quietly(
            store, clock, actor, action + REFUSED, target, {**context, "error": str(exc)}
        )
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        _record_quietly(store, clock, actor, action + FAILED, target, {**context, "error": error})
        raise
    audit(store, clock, actor, action, target, {**details(result), **context})
    return result


def cli_actor() -> Actor:
    """The CLI acts as the OS user on this host, ``cli:alice@build-3``, with an admin's rights:
    whoever can run it can open the database anyway."""
    return Actor(f"cli:{os_user()}@{socket.gethostname()}", "admin", None, via="cli")


def _context(actor: Actor, reason: str | None) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if actor.via:
        context["via"] = actor.via
    if reason and reason.strip():
        context["reason"] = reason.strip()
    return context


def _record_quietly(
    store: Store, clock: Clock, actor: Actor, action: str, target: str, details: dict[str, Any]
) -> None:
    # The caller's error is what the operator must see; a store that is down cannot take the
    # audit row either, and that second error would only hide the first.
    with contextlib.suppress(JobDeckError):
        audit(store, clock, actor, action, target, details)
        return
    log.warning("could not audit %s on %s by %s", action, target, actor.name)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's bare uid)
        return "unknown"
