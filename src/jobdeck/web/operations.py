"""Operator actions on jobs, shared by the pages and the REST API: do it, then audit it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from starlette.requests import Request

from jobdeck import control
from jobdeck.accounts import audit
from jobdeck.clock import Clock
from jobdeck.store.base import JobRow, Store
from jobdeck.web.access import Principal, actor_of
from jobdeck.web.params import deck_of

JobAction = Literal["retry", "cancel"]

_ACTIONS: dict[str, Callable[[Store, Clock, int], JobRow]] = {
    "retry": control.retry_job,
    "cancel": control.cancel_job,
}


def operate_on_job(
    request: Request, principal: Principal, action: JobAction, job_id: int, via: str
) -> JobRow:
    deck = deck_of(request)
    job = _ACTIONS[action](deck.store, deck.clock, job_id)
    audit(
        deck.store,
        deck.clock,
        actor_of(request, principal),
        action,
        f"job {job_id}",
        {"task": job.task, "via": via},
    )
    return job
