"""The New job page: pick a task, fill the form its signature gives, and enqueue it (with a
delay, a priority, labels and a reason); the new job's drawer opens on the Jobs page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jobdeck.control import new_job
from jobdeck.control.history import MAX_REASON
from jobdeck.durations import parse_duration
from jobdeck.errors import ArgumentError, ArgumentsError, InvalidPayload, JobDeckError, UnknownTask
from jobdeck.web.access import Enqueuer, actor_of
from jobdeck.web.params import FormFields, deck_of
from jobdeck.web.rendering import PageRoute, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

# The refusals that are the person's to fix: shown on the form, above the field they name.
FORM_ERRORS = (ArgumentsError, InvalidPayload, UnknownTask)


@router.get("/jobs/new", response_class=HTMLResponse)
def new_job_page(request: Request, principal: Enqueuer) -> Response:
    name = request.query_params.get("task", "")
    return _form_page(request, name, {}, None)


@router.post("/jobs/new", response_class=HTMLResponse)
def create(request: Request, principal: Enqueuer, form: FormFields) -> Response:
    """Enqueue from the form; success opens the job's drawer, a refusal re-renders the form
    with what was typed and the one-line error (422)."""
    deck = deck_of(request)
    name = form.get("task", "")
    try:
        task = new_job.task_to_create(deck, name)
        task_form = new_job.task_form(task)
        job_request = new_job.NewJobRequest(
            args=task_form.parse(form),
            delay=_delay(form.get("delay", "")),
            priority=_priority(form.get("priority", "")),
            labels=_labels(form.get("labels", "")),
        )
        handle = new_job.create_job(
            deck,
            task,
            job_request,
            actor_of(request, principal),
            reason=form.get("reason"),
            form=task_form,
        )
    except FORM_ERRORS as exc:
        return _form_page(request, name, form, exc, status_code=422)
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{root}/jobs?job={handle.id}", status_code=303)


def _form_page(
    request: Request,
    name: str,
    values: dict[str, str],
    error: JobDeckError | None,
    status_code: int = 200,
) -> Response:
    deck = deck_of(request)
    task = deck.tasks.get(name)
    if name and task is None and error is None and new_job.has_app_code(deck):
        error = UnknownTask(f"Unknown task {name[:100]!r}: pick one from the list.")
    context: dict[str, Any] = {
        "has_app_code": new_job.has_app_code(deck),
        "no_app_code": new_job.NO_APP_CODE,
        "task_names": sorted(deck.tasks),
        "task": task,
        "form": new_job.task_form(task) if task else None,
        "values": values,
        "error": str(error).splitlines()[0] if error else None,
        "error_field": getattr(error, "field", None),
        "max_reason": MAX_REASON,
    }
    return render(request, "new_job.html", status_code, nav="jobs", **context)


def _delay(text: str) -> float | None:
    """Seconds, or a duration like 15m or 1h30m; blank is none."""
    if not text.strip():
        return None
    try:
        return parse_duration(text.strip(), allow_zero=True).total_seconds()
    except (JobDeckError, ValueError, OverflowError):
        raise ArgumentError(
            "delay", f"expected seconds or a duration like 15m or 1h30m, got {text[:30]!r}"
        ) from None


def _priority(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        if len(text.strip()) > 12:
            raise ValueError(text)
        return int(text.strip())
    except ValueError:
        raise ArgumentError("priority", f"expected a whole number, got {text[:30]!r}") from None


def _labels(text: str) -> dict[str, str]:
    """One ``key=value`` a line (commas also separate them)."""
    labels: dict[str, str] = {}
    for line in text.replace(",", "\n").splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ArgumentError("labels", f"{line.strip()[:40]!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels
