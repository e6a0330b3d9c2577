"""Search: experts found by words inside their documents, ranked, with a highlighted snippet,
and no longer found once the document is deleted and the owner re-indexed."""

from __future__ import annotations

from jobdeck import JobDeck, JobState
from jobdeck.contrib.documents import Documents
from tests.documents import files
from tests.documents.conftest import INDEX_TASK, pipeline_jobs, wait_settled
from tests.worker.helpers import running_worker, wait_until


def test_found_by_a_word_only_in_their_pdf_until_it_is_deleted(
    deck: JobDeck, documents: Documents
) -> None:
    pdf = documents.upload("expert-lena", "cv.pdf", files.multi_page_pdf("zymurgist"))
    other = documents.upload("expert-omar", "profile.docx", files.docx_with_tables())
    with running_worker(deck):
        wait_settled(documents, [pdf.id, other.id])
        hits = documents.search("Zymurgist")
        assert [h.owner_id for h in hits] == ["expert-lena"]
        (hit,) = hits
        assert (hit.document_id, hit.filename) == (pdf.id, "cv.pdf")
        assert "<mark>zymurgist</mark>" in hit.snippet_html
        assert "zymurgist" in hit.snippet and "<mark>" not in hit.snippet
        assert documents.search("palynologist")[0].owner_id == "expert-omar"

        reindexes_before = len(pipeline_jobs(deck, INDEX_TASK, "expert-lena"))
        documents.delete(pdf.id)
        wait_until(
            lambda: (
                all(j.state.is_final for j in pipeline_jobs(deck, INDEX_TASK, "expert-lena"))
                and len(pipeline_jobs(deck, INDEX_TASK, "expert-lena")) > reindexes_before
            ),
            30,
            "the owner's re-index after the delete",
        )
    assert documents.search("zymurgist") == []
    assert not documents.storage.exists(pdf.storage_key)
    reindex = pipeline_jobs(deck, INDEX_TASK, "expert-lena")[0]
    assert reindex.state == JobState.SUCCEEDED
    assert reindex.labels["document_id"] == str(pdf.id)
    assert documents.index.indexed_documents("expert-lena") == set()
    assert documents.index.indexed_documents("expert-omar") == {other.id}


def test_ranking_words_across_documents_and_escaping(deck: JobDeck, documents: Documents) -> None:
    heavy = files.pdf(["Tunnel boring, tunnel linings and tunnel collapse: tunnel expert."])
    light = files.pdf(["Expert in bridges; once consulted on a tunnel."])
    split_a = files.pdf(["Hydrogeology since 2001."])
    split_b = files.pdf(["Arbitration work for water utilities."])
    hostile = files.pdf(["<script>alert(1)</script> tunnel & <b>bold</b> claims"])
    uploaded = [
        documents.upload("heavy", "a.pdf", heavy),
        documents.upload("light", "b.pdf", light),
        documents.upload("split", "c.pdf", split_a),
        documents.upload("split", "d.pdf", split_b),
        documents.upload("hostile", "e.pdf", hostile),
    ]
    with running_worker(deck):
        wait_settled(documents, [r.id for r in uploaded])
    ranked = [h.owner_id for h in documents.search("tunnel")]
    assert ranked[0] == "heavy"
    assert set(ranked) == {"heavy", "light", "hostile"}
    # Every word must appear in the expert's documents, not necessarily in the same one.
    assert [h.owner_id for h in documents.search("hydrogeology arbitration")] == ["split"]
    assert documents.search("hydrogeology bridges") == []
    assert documents.search("   ") == []
    assert documents.search('"unbalanced OR ( NEAR') == []  # never FTS/tsquery syntax
    (hostile_hit,) = [h for h in documents.search("tunnel claims") if h.owner_id == "hostile"]
    # Document text is escaped (PostgreSQL's ts_headline also drops tag-like words).
    assert "<script>" not in hostile_hit.snippet_html and "<b>" not in hostile_hit.snippet_html
    assert "&amp;" in hostile_hit.snippet_html
    assert "<mark>tunnel</mark>" in hostile_hit.snippet_html


def test_stemming_matches_word_forms(deck: JobDeck, documents: Documents) -> None:
    text = files.pdf(["Arbitrated many engineering disputes."])
    record = documents.upload("stem", "cv.pdf", text)
    with running_worker(deck):
        wait_settled(documents, [record.id])
    assert [h.owner_id for h in documents.search("dispute engineer")] == ["stem"]
