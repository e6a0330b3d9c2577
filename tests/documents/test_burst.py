"""A burst of uploads for one expert causes one or a few re-indexes, and the index ends up
holding exactly the expert's ready documents."""

from __future__ import annotations

import threading

from jobdeck import JobDeck, JobState
from jobdeck.contrib.documents import Documents
from tests.documents import files
from tests.documents.conftest import INDEX_TASK, PROCESS_TASK, pipeline_jobs, wait_settled
from tests.worker.helpers import running_worker

UPLOADS = 50


def test_fifty_uploads_cause_few_reindexes_and_the_index_matches(
    deck: JobDeck, documents: Documents
) -> None:
    with running_worker(deck, concurrency=8):
        records = []
        for n in range(UPLOADS):
            data = files.corrupt_pdf() if n % 10 == 9 else files.pdf([f"Report {n}: word{n}x."])
            records.append(documents.upload("expert-burst", f"report-{n}.pdf", data))
        wait_settled(documents, [r.id for r in records], timeout=120)

    reindexes = pipeline_jobs(deck, INDEX_TASK, "expert-burst")
    processed = pipeline_jobs(deck, PROCESS_TASK, "expert-burst")
    # A re-index waits index_delay (1 s) and takes every upload that came meanwhile: at most one
    # per second of the burst, however long a loaded machine makes it, and far fewer than one
    # per upload.
    span = max(j.finished_at for j in processed if j.finished_at) - min(
        j.enqueued_at for j in processed
    )
    most = min(UPLOADS // 2, 2 + int(span.total_seconds()))
    assert 1 <= len(reindexes) <= most, [(j.id, j.enqueued_at, j.started_at) for j in reindexes]
    assert all(j.state == JobState.SUCCEEDED for j in reindexes)
    assert len(processed) == UPLOADS

    ready = {r.id for r in documents.find("expert-burst", "ready", limit=1000)}
    assert len(ready) == UPLOADS - UPLOADS // 10
    assert documents.index.indexed_documents("expert-burst") == ready
    assert all(r.indexed_at is not None for r in documents.find("expert-burst", "ready", 1000))
    assert [h.owner_id for h in documents.search("word17x")] == ["expert-burst"]
    assert documents.search("word19x") == []  # number 19 was a corrupt PDF


def test_concurrent_reindexes_of_one_owner_never_lose_a_ready_document(
    deck: JobDeck, documents: Documents
) -> None:
    """Re-indexes race with documents becoming ready; the last commit always sees them all."""
    with running_worker(deck):
        first = documents.upload("expert-race", "a.pdf", files.pdf(["alpha0 text"]))
        wait_settled(documents, [first.id])
        uploaded = [first.id]
        stop = threading.Event()

        def reindex_forever() -> None:
            while not stop.is_set():
                documents.index.reindex_owner("expert-race", deck.clock.now())

        racer = threading.Thread(target=reindex_forever)
        racer.start()
        try:
            for n in range(1, 8):
                record = documents.upload("expert-race", f"{n}.pdf", files.pdf([f"alpha{n} x"]))
                uploaded.append(record.id)
            wait_settled(documents, uploaded)
        finally:
            stop.set()
            racer.join(30)
    assert documents.index.indexed_documents("expert-race") == set(uploaded)
