"""``POST /api/jobs``: create a job of a registered task, checked as the New job form and
``enqueue`` check it (a 422 naming the argument when one does not fit), and audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints

from jobdeck.control import new_job
from jobdeck.control.history import MAX_REASON
from jobdeck.settings import Settings
from jobdeck.web.access import Enqueuer, actor_of
from jobdeck.web.api.jobs import JobIdNumber
from jobdeck.web.api.models import ERROR_RESPONSES, JobOut
from jobdeck.web.params import MAX_TEXT, NO_NUL, Name, deck_of

router = APIRouter(responses=ERROR_RESPONSES)

DEFAULT_MAX_LABELS = Settings().max_labels
LabelValue = Annotated[str, StringConstraints(max_length=MAX_TEXT, pattern=NO_NUL)]


class NewJobIn(BaseModel):
    task: Name = Field(description="A task registered with the deck.", examples=["send_email"])
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Keyword arguments, each checked against the type in the task's signature.",
        examples=[{"to": "a@example.com"}],
    )
    # Strict: a JSON true is not priority 1, nor "60" a delay of a minute.
    delay: float | None = Field(
        default=None,
        ge=0,
        le=new_job.MAX_DELAY,
        strict=True,
        description="Seconds before it may run.",
    )
    priority: int | None = Field(
        default=None,
        ge=-new_job.MAX_PRIORITY,
        le=new_job.MAX_PRIORITY,
        strict=True,
        description="The task's own priority when absent.",
    )
    labels: dict[Name, LabelValue] = Field(
        default_factory=dict,
        max_length=DEFAULT_MAX_LABELS,
        description="Added to the task's labels (with them, at most the deck's max_labels).",
        examples=[{"ticket": "1"}],
    )
    after: list[JobIdNumber] = Field(
        default_factory=list,
        max_length=new_job.MAX_PARENTS,
        description="Ids of jobs it runs after: it waits until all of them succeeded, and is "
        "cancelled if one fails or is cancelled (400 for an id that names no job).",
        examples=[[12, 13]],
    )
    reason: str | None = Field(
        default=None,
        max_length=MAX_REASON,
        pattern=NO_NUL,
        description="Why; stored with the audit row.",
    )


@router.post("/jobs", response_model=JobOut, status_code=201)
def create_job(request: Request, principal: Enqueuer, body: NewJobIn) -> JobOut:
    """Enqueue one job of ``task`` (trigger ``manual``); 404 for a task this deck does not
    have, 422 naming the argument that does not fit its type."""
    deck = deck_of(request)
    task = new_job.task_to_create(deck, body.task)
    handle = new_job.create_job(
        deck,
        task,
        new_job.NewJobRequest(body.args, body.delay, body.priority, body.labels, tuple(body.after)),
        actor_of(request, principal, via="api"),
        reason=body.reason,
        form=new_job.task_form(task),
    )
    return JobOut.of(handle.row)
