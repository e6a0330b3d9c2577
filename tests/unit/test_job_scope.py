"""The block a job's code runs in (worker/executors.JobScope): its log fields and
current_job() are set inside and gone after, also when opening its trace span fails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jobdeck import tracing
from jobdeck.logs import current_job_fields
from jobdeck.running import current_job
from jobdeck.store.records import ClaimedJob
from jobdeck.worker.execution import RunningJob
from jobdeck.worker.executors import JobScope


def running() -> RunningJob:
    job = ClaimedJob(7, "send", "mail", "{}", 1, 3, None, datetime.now(UTC))
    return RunningJob(job, None)


def test_the_scope_tags_the_job_inside_and_nothing_after() -> None:
    job = running()
    with JobScope(job, "w1", traced=False):
        assert current_job_fields()["job_id"] == 7
        assert current_job_fields()["worker_id"] == "w1"
    assert current_job_fields() == {}
    with pytest.raises(LookupError):
        current_job()


def test_a_span_that_fails_to_open_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("no tracer")

    monkeypatch.setattr(tracing, "process", broken)
    with pytest.raises(RuntimeError), JobScope(running(), "w1", traced=True):
        pass
    assert current_job_fields() == {}
    with pytest.raises(LookupError):
        current_job()
