"""The pipeline with a real worker: every kind of file ends in the right status and reason, and
every pipeline job carries the owner, document and filename labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobdeck import JobDeck, JobState
from jobdeck.contrib.documents import Documents, DocumentTooLarge
from jobdeck.contrib.documents.extract import DOC, DOCX, PDF
from tests.documents import files
from tests.documents.conftest import (
    INDEX_TASK,
    PROCESS_TASK,
    job_of,
    labels_ok,
    pipeline_jobs,
    wait_settled,
)
from tests.worker.helpers import running_worker

FAILED = JobState.FAILED

# name, owner, file, status, reason prefix, final job state
CASES = [
    ("cv.pdf", "expert-a", files.multi_page_pdf, "ready", None, JobState.SUCCEEDED),
    ("profile.docx", "expert-b", files.docx_with_tables, "ready", None, JobState.SUCCEEDED),
    ("legacy.doc", "expert-a", files.legacy_doc, "ready", None, JobState.SUCCEEDED),
    ("broken.pdf", "expert-a", files.corrupt_pdf, "failed", "corrupt PDF", JobState.FAILED),
    (
        "locked.pdf",
        "expert-a",
        files.encrypted_pdf,
        "failed",
        "password-protected PDF",
        JobState.FAILED,
    ),
    ("scan.pdf", "expert-b", files.image_only_pdf, "failed", "no extractable text", FAILED),
    # An unsupported format fails its job at once, with the reason, like any bad file.
    ("notes.txt", "expert-b", files.text_file, "failed", "unsupported format", FAILED),
]


def test_every_file_ends_in_the_right_status_with_its_reason(
    deck: JobDeck, documents: Documents
) -> None:
    uploaded = {name: documents.upload(owner, name, make()) for name, owner, make, *_ in CASES}
    assert all(r.processing_status == "pending" for r in uploaded.values())
    with running_worker(deck):
        wait_settled(documents, [r.id for r in uploaded.values()])

    for name, _, _, status, reason, job_state in CASES:
        record = documents.get(uploaded[name].id)
        assert record.processing_status == status, (name, record.error_reason)
        if reason is None:
            assert record.error_reason is None
            assert record.text_chars and record.text_chars > 50
            assert record.processed_at is not None and record.indexed_at is not None
        else:
            assert record.error_reason is not None and record.error_reason.startswith(reason)
            assert record.indexed_at is None
        job = job_of(deck, record.job_id)
        assert job.state == job_state, name
        if job_state == JobState.FAILED:
            # The attempt carries the reason and the traceback, for the drawer.
            attempt = deck.store.get_attempts(job.id)[-1]
            assert attempt.error is not None and reason is not None and reason in attempt.error
            assert attempt.traceback and "DocumentFailed" in attempt.traceback
    unsupported = job_of(deck, documents.get(uploaded["notes.txt"].id).job_id)
    assert unsupported.attempt == 1  # no retries: the file is what it is
    ready = job_of(deck, documents.get(uploaded["cv.pdf"].id).job_id)
    assert ready.result["pages"] == 3

    assert {documents.get(uploaded[n].id).content_type for n in ("cv.pdf", "legacy.doc")} == {
        PDF,
        DOC,
    }
    for task in (PROCESS_TASK, INDEX_TASK):
        jobs = pipeline_jobs(deck, task)
        assert jobs
        for job in jobs:
            labels = labels_ok(job)
            assert labels["owner_id"] in ("expert-a", "expert-b")
    assert {job.labels["filename"] for job in pipeline_jobs(deck, PROCESS_TASK)} == set(uploaded)


def test_content_decides_the_format_not_the_name(deck: JobDeck, documents: Documents) -> None:
    disguised = documents.upload("expert-c", "cv.pdf", files.docx_with_tables("lichenologist"))
    renamed = documents.upload("expert-c", "notes.txt", files.multi_page_pdf("dendrologist"))
    assert disguised.content_type == DOCX
    with running_worker(deck):
        wait_settled(documents, [disguised.id, renamed.id])
    assert documents.get(disguised.id).processing_status == "ready"
    assert documents.get(renamed.id).processing_status == "ready"
    assert [h.owner_id for h in documents.search("lichenologist dendrologist")] == ["expert-c"]


def test_missing_file_and_file_over_the_limit(deck: JobDeck, documents: Documents) -> None:
    missing = documents.upload("expert-d", "gone.pdf", files.multi_page_pdf())
    grown = documents.upload("expert-d", "grown.pdf", files.multi_page_pdf())
    documents.storage.delete(missing.storage_key)
    too_big = b"%PDF-1.4\n" + b"0" * (documents.settings.max_bytes + 10)
    documents.storage.put(grown.storage_key, too_big, PDF)
    with running_worker(deck):
        wait_settled(documents, [missing.id, grown.id])
    gone = documents.get(missing.id)
    assert gone.processing_status == "failed"
    assert gone.error_reason is not None
    assert gone.error_reason.startswith("file missing from storage")
    assert "upload it again" in gone.error_reason
    big = documents.get(grown.id)
    assert big.processing_status == "failed"
    assert big.error_reason is not None and big.error_reason.startswith("file too large")
    assert job_of(deck, big.job_id).state == JobState.FAILED


def test_uploads_over_the_limit_are_refused_and_names_sanitised(
    documents: Documents, tmp_path: Path
) -> None:
    with pytest.raises(DocumentTooLarge):
        documents.upload("expert-e", "big.pdf", b"x" * (documents.settings.max_bytes + 1))
    record = documents.upload("expert-e", "../../../etc/passwd\x00.pdf", files.multi_page_pdf())
    assert record.filename == "passwd.pdf"
    stored = Path(documents.storage.describe(record.storage_key))
    assert stored.is_relative_to(tmp_path / "files") and stored.is_file()


def test_reprocess_failed_documents(deck: JobDeck, documents: Documents) -> None:
    broken = documents.upload("expert-f", "cv.pdf", files.corrupt_pdf())
    with running_worker(deck):
        wait_settled(documents, [broken.id])
        assert documents.get(broken.id).processing_status == "failed"
        # The expert fixes the file; an operator reprocesses every failed document.
        documents.storage.put(broken.storage_key, files.multi_page_pdf("cartographer"), PDF)
        requeued = documents.reprocess_status("failed")
        assert [r.id for r in requeued] == [broken.id]
        assert requeued[0].job_id != broken.job_id
        wait_settled(documents, [broken.id])
    fixed = documents.get(broken.id)
    assert fixed.processing_status == "ready" and fixed.error_reason is None
    assert [h.owner_id for h in documents.search("cartographer")] == ["expert-f"]


def test_text_past_max_text_chars_is_cut_and_the_document_says_where(
    deck: JobDeck, documents: Documents
) -> None:
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from jobdeck.contrib.documents.web import documents_pages
    from jobdeck.web.access import local_operator

    documents.settings = replace(documents.settings, max_text_chars=200)
    long = documents.upload("expert-e", "profile.docx", files.docx_with_tables())
    with running_worker(deck):
        wait_settled(documents, [long.id])
    record = documents.get(long.id)
    assert record.processing_status == "ready" and record.text_chars == 200
    assert record.text_cut_from is not None and record.text_cut_from > 200
    assert record.as_json()["text_cut_from"] == record.text_cut_from
    job = job_of(deck, record.job_id)
    assert job.summary and f"the text has {record.text_cut_from} characters" in job.summary
    app = deck.asgi(authorize=local_operator, extra_routers=[documents_pages(documents)])
    page = TestClient(app).get("/documents").text
    assert f"only the first 200 of {record.text_cut_from:,} characters are searchable" in page
