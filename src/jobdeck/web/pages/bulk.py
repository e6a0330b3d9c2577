"""The task list's bulk actions: the in-page confirmation that says how many jobs an action
will touch, and the action itself, over the selected rows or every job the filter matches.

The filter travels in the query string (the same parameters as the page's), the choice in the
form: ``scope`` is ``selected`` (with ``ids``, comma-separated) or ``filter``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jobdeck import control
from jobdeck.web.access import Operator, actor_of
from jobdeck.web.live import live
from jobdeck.web.pages.jobs import ListParams, read_params, table_context
from jobdeck.web.params import BadParameter, FormFields, deck_of, or_none, parse_id, reason_of
from jobdeck.web.rendering import PageRoute, render, toast_header

router = APIRouter(include_in_schema=False, route_class=PageRoute)

BulkActionName = Literal["retry", "cancel", "delete"]
_DONE = {"retry": "queued to run again", "cancel": "cancelled", "delete": "deleted"}


@router.post("/jobs/bulk/{action}/confirm", response_class=HTMLResponse)
def confirm(
    request: Request, action: BulkActionName, principal: Operator, form: FormFields
) -> Response:
    """The confirmation step: how many jobs the action would touch now, and the button that
    does it (with an optional reason)."""
    deck, params = deck_of(request), read_params(request)
    query = bulk_query(params, form)
    redact = deck.settings.redact
    count = control.bulk_count(deck.store, action, query, redact=redact)
    running = (
        control.bulk_running_count(deck.store, query, redact=redact) if action == "cancel" else 0
    )
    return render(
        request,
        "_bulk_confirm.html",
        action=action,
        count=count,
        running=running,
        scope=form.get("scope", "selected"),
        ids=form.get("ids", ""),
        params=params,
        selected=len(query.ids) if query.ids is not None else None,
    )


@router.post("/jobs/bulk/{action}", response_class=HTMLResponse)
def act(
    request: Request, action: BulkActionName, principal: Operator, form: FormFields
) -> Response:
    """Do it, in batches, audited once; answer with the table as it is now."""
    deck, params = deck_of(request), read_params(request)
    query = bulk_query(params, form)
    done = control.bulk_act(
        deck.store,
        deck.clock,
        action,
        query,
        actor_of(request, principal),
        reason=reason_of(form),
        redact=deck.settings.redact,
    )
    noun = "job" if done == 1 else "jobs"
    headers = {"HX-Trigger": toast_header(f"{done:,} {noun} {_DONE[action]}")}
    page = render(
        request, "_job_table.html", headers=headers, params=params, **table_context(deck, params)
    )
    return live(request, page)


def bulk_query(params: ListParams, form: dict[str, str]) -> control.JobQuery:
    """The page's filter, narrowed to the selected rows unless "all matching" was chosen."""
    query = params.query()
    scope = form.get("scope", "selected")
    if scope == "filter":
        return query
    if scope != "selected":
        raise BadParameter(f"Unknown scope {scope[:20]!r}: use selected or filter.")
    ids = [or_none(parse_id, part.strip()) for part in form.get("ids", "").split(",") if part]
    if not ids or None in ids:
        raise BadParameter("Select at least one job (the ids were missing or not numbers).")
    if len(ids) > control.MAX_SELECTED:
        raise BadParameter(f"{len(ids)} rows selected; at most {control.MAX_SELECTED}.")
    return replace(query, ids=tuple(i for i in ids if i is not None))
