"""Progress and log lines a task reports, with a real worker: written in batches, bounded per
attempt, and kept with the attempt after the job ends."""

from __future__ import annotations

import pytest

from jobdeck import ConfigError, CurrentJob, JobDeck, current_job
from jobdeck.states import JobState
from jobdeck.worker.reports import ReportBuffer, ReportFlusher
from tests.worker.helpers import running_worker, wait_until


def test_reports_are_batched_bounded_and_kept_with_the_attempt(deck: JobDeck) -> None:
    handle = deck.get_task("reporter").options(labels={"tenant": "42"}).enqueue(lines=300)
    with running_worker(deck, job_log_lines=50, report_flush_interval=0.2) as worker:
        wait_until(lambda: deck.store.get_job(handle.id).state == JobState.SUCCEEDED, 10)  # type: ignore[union-attr]
        flusher = next(s for s in worker.services if isinstance(s, ReportFlusher))
        wait_until(lambda: deck.store.get_log_lines(handle.id), 5, "the lines to be written")
        writes = flusher.writes
    # 300 lines and 10 progress reports in one or two writes, never one per call.
    assert 1 <= writes <= 3
    lines = deck.store.get_log_lines(handle.id)
    assert len(lines) == 51 and lines[-1].message.startswith("… further lines left out")
    assert lines[0].level == "warning" and lines[0].message == "through logging 0"
    assert [ln.message for ln in lines[1:3]] == ["line 1", "line 2"]
    [progress] = deck.store.get_progress([handle.id])
    assert (progress.done, progress.total, progress.note) == (10, 10, "step 10")
    result = deck.store.get_job(handle.id).result  # type: ignore[union-attr]
    assert result == {"id": handle.id, "attempt": 1, "labels": {"tenant": "42"}}


def test_progress_shows_while_the_job_runs(deck: JobDeck) -> None:
    handle = deck.get_task("cooperative").enqueue(steps=3000)
    with running_worker(deck, report_flush_interval=0.1):
        seen = wait_until(lambda: deck.store.get_progress([handle.id]), 10, "progress")
        assert deck.store.get_job(handle.id).state == JobState.RUNNING  # type: ignore[union-attr]
        assert seen[0].total == 3000 and 0 <= seen[0].done < 3000


def test_current_job_outside_a_task_and_bad_progress_say_so() -> None:
    with pytest.raises(LookupError, match="only available inside a running task"):
        current_job()
    job = CurrentJob(1, 1, "t", dict, ReportBuffer(), 10)
    for done, total in ((-1, None), (float("nan"), None), (1, 0), (True, None)):
        with pytest.raises(ConfigError, match="report_progress"):
            job.report_progress(done, total)
    job.report_progress(1, 2, "x\x00" * 2000)
    [report], _ = job._sink.take()  # type: ignore[attr-defined]
    assert len(report.note) == 2_000 and "\x00" not in report.note


def test_two_workers_in_one_process_capture_each_logging_record_once(deck: JobDeck) -> None:
    with running_worker(deck, report_flush_interval=0.1), running_worker(deck):
        handle = deck.get_task("reporter").enqueue(lines=30)  # both workers are up
        wait_until(lambda: len(deck.store.get_log_lines(handle.id)) >= 30, 10, "30 lines")
        assert deck.store.get_job(handle.id).state == JobState.SUCCEEDED  # type: ignore[union-attr]
    lines = deck.store.get_log_lines(handle.id)
    assert len(lines) == 30 and sum(ln.level == "warning" for ln in lines) == 3
