"""The API's queues and workers: backlogs and latency per queue, pause and resume; every
worker process with the jobs it runs, and drain-and-stop."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel

from jobdeck.control import fleet as fleet_control
from jobdeck.control.fleet import QueuesOverview, QueueView, WorkerView
from jobdeck.control.limits import LimitView
from jobdeck.store.base import QueuePause
from jobdeck.web.access import Operator, Principal, Viewer, actor_of
from jobdeck.web.api.jobs import Period
from jobdeck.web.api.models import ERROR_RESPONSES, ReasonIn, RecordOut, WorkerOut
from jobdeck.web.params import Name, deck_of

router = APIRouter(responses=ERROR_RESPONSES)

# Routes declare ``{name:path}``: a queue name with a slash arrives as %2F.
QueueName = Annotated[Name, Path()]
WorkerId = Annotated[Name, Path()]

# No docstrings on the models: pydantic would publish them as schema descriptions.


class QueuePauseOut(RecordOut, record=QueuePause):
    pass


class QueueOut(RecordOut, record=QueueView, hide=("latency",)):
    paused: QueuePauseOut | None
    workers: list[str]  # ids of the workers heartbeating now that claim from it
    latency_seconds: float  # how long the oldest pending job has waited
    finished: int
    failure_rate: float | None

    @classmethod
    def computed(cls, record: Any) -> dict[str, Any]:
        return {
            "workers": [w.id for w in record.workers],
            "latency_seconds": record.latency.total_seconds(),
        }


class LimitOut(RecordOut, record=LimitView):
    full: bool


class QueuesOut(RecordOut, record=QueuesOverview):
    queues: list[QueueOut]
    limits: list[LimitOut]
    minutes: float


class QueueStateOut(BaseModel):
    queue: str
    paused: bool
    changed: bool  # False: it already was


class WorkerProcessOut(RecordOut, record=WorkerView, hide=("info", "running_jobs")):
    worker: WorkerOut
    status: Literal["running", "draining", "lost", "stopped"]
    busy: int
    running_job_ids: list[int]

    @classmethod
    def computed(cls, record: Any) -> dict[str, Any]:
        return {
            "worker": WorkerOut.of(record.info),
            "running_job_ids": [job.id for job in record.running_jobs],
        }


class StopRequestedOut(BaseModel):
    worker_id: str
    message: str


@router.get("/queues", response_model=QueuesOut)
def queues(request: Request, principal: Viewer, period: Period = "24h") -> QueuesOut:
    """Each queue's pending, scheduled, running and retrying jobs, its latency, what finished
    and failed in the period (by each task's declared queue) and the workers serving it."""
    return QueuesOut.of(fleet_control.queues_overview(deck_of(request), period))


@router.post("/queues/{name:path}/pause", response_model=QueueStateOut)
def pause_queue(
    request: Request,
    name: QueueName,
    principal: Operator,
    body: Annotated[ReasonIn | None, Body()] = None,
) -> QueueStateOut:
    """Every worker stops claiming from the queue at its next heartbeat; running jobs finish."""
    return _set_paused(request, principal, name, True, body)


@router.post("/queues/{name:path}/resume", response_model=QueueStateOut)
def resume_queue(
    request: Request,
    name: QueueName,
    principal: Operator,
    body: Annotated[ReasonIn | None, Body()] = None,
) -> QueueStateOut:
    return _set_paused(request, principal, name, False, body)


@router.get("/workers/processes", response_model=list[WorkerProcessOut])
def worker_processes(request: Request, principal: Viewer) -> list[WorkerProcessOut]:
    """Every worker process heartbeating now, lost or stopped in the last hour, with the
    jobs it runs now."""
    return [WorkerProcessOut.of(view) for view in fleet_control.workers_overview(deck_of(request))]


@router.post("/workers/{worker_id:path}/stop", response_model=StopRequestedOut)
def stop_worker(
    request: Request,
    worker_id: WorkerId,
    principal: Operator,
    body: Annotated[ReasonIn | None, Body()] = None,
) -> StopRequestedOut:
    """Drain and stop: at its next heartbeat the worker stops claiming, finishes its running
    jobs and exits."""
    actor = actor_of(request, principal, via="api")
    reason = body.reason if body else None
    fleet_control.stop_worker(deck_of(request), worker_id, actor, reason=reason)
    return StopRequestedOut(worker_id=worker_id.strip(), message="asked to drain and stop")


def _set_paused(
    request: Request, principal: Principal, name: str, paused: bool, body: ReasonIn | None
) -> QueueStateOut:
    deck, actor = deck_of(request), actor_of(request, principal, via="api")
    act = fleet_control.pause_queue if paused else fleet_control.resume_queue
    changed = act(deck, name, actor, reason=body.reason if body else None)
    return QueueStateOut(queue=name.strip(), paused=paused, changed=changed)
