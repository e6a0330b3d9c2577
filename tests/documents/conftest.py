"""A deck with documents installed on a fresh database of each dialect, files in a temp folder,
and helpers that wait for the pipeline to settle."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdeck import JobDeck, JobState
from jobdeck.contrib.documents import Documents, LocalStorage, install_documents
from jobdeck.contrib.documents.pipeline import INDEX_TASK, PROCESS_TASK
from jobdeck.store.base import JobFilter, JobRow
from tests.worker.helpers import FAST, wait_until

SETTLED = ("ready", "failed")


@pytest.fixture
def deck(db_url: str) -> Iterator[JobDeck]:
    opened = JobDeck(db_url, **FAST)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def documents(deck: JobDeck, tmp_path: Path) -> Iterator[Documents]:
    installed = install_documents(
        deck, storage=LocalStorage(tmp_path / "files"), index_delay=0.2, max_bytes=5_000_000
    )
    try:
        yield installed
    finally:
        installed.close()


def pipeline_jobs(deck: JobDeck, task: str, owner_id: str | None = None) -> list[JobRow]:
    rows = deck.store.list_jobs(JobFilter(tasks=[task]), None, 1000)
    return [r for r in rows if owner_id is None or r.labels.get("owner_id") == owner_id]


def wait_settled(documents: Documents, ids: Iterable[int], timeout: float = 60.0) -> None:
    """Until every document is ready or failed, its last job finished, and no re-index waits."""
    wanted = list(ids)
    deck = documents.deck

    def settled() -> bool:
        records = [documents.get(i) for i in wanted]
        if any(r.processing_status not in SETTLED for r in records):
            return False
        if any(r.job_id is None or not deck.job(r.job_id).state.is_final for r in records):
            return False
        return all(j.state.is_final for j in pipeline_jobs(deck, INDEX_TASK))

    wait_until(settled, timeout, f"documents {wanted} to settle")


def job_of(deck: JobDeck, job_id: int | None) -> JobRow:
    assert job_id is not None
    return deck.job(job_id).row


def final_state(deck: JobDeck, job_id: int | None) -> JobState:
    return job_of(deck, job_id).state


def labels_ok(row: JobRow) -> dict[str, Any]:
    missing = {"owner_id", "document_id", "filename"} - set(row.labels)
    assert not missing, f"job {row.id} ({row.task}) lacks labels {missing}"
    return dict(row.labels)


__all__ = ["INDEX_TASK", "PROCESS_TASK"]
