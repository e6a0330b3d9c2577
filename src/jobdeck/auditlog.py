"""Who performed an operator action, and the writer of its audit row.

Core, not part of accounts: code, the CLI and the worker audit too, on an install without the
dashboard (whose accounts need argon2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobdeck.clock import Clock
from jobdeck.store.base import AuditAction, Store


@dataclass(frozen=True)
class Actor:
    """Who performed an operator action, for the audit trail."""

    name: str
    role: str | None = None
    ip: str | None = None
    via: str | None = None  # web, api, cli, code: recorded with each operator action


def audit(
    store: Store,
    clock: Clock,
    actor: Actor,
    action_type: str,
    target: str | None,
    details: Mapping[str, Any],
) -> int:
    return store.record_action(
        AuditAction(
            actor=actor.name,
            action_type=action_type,
            timestamp=clock.now(),
            role=actor.role,
            target=target,
            ip=actor.ip,
            details_json=json.dumps(dict(details), default=str),
        )
    )
