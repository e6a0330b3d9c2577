"""The upload and search pages and their JSON endpoints, mounted in the dashboard: multipart
uploads, the size limit, and who may search (the ``search`` permission) or upload."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jobdeck import JobDeck, ManualClock, accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.contrib.documents import Documents, LocalStorage, install_documents
from jobdeck.contrib.documents.web import documents_api, documents_pages
from tests.documents import files
from tests.documents.conftest import wait_settled
from tests.web.conftest import PASSWORD, ROLES, sign_in
from tests.worker.helpers import FAST, running_worker


class Site:
    def __init__(self, deck: JobDeck, documents: Documents) -> None:
        self.deck = deck
        self.documents = documents
        self.app = deck.asgi(extra_routers=[documents_pages(documents), documents_api(documents)])

    def login(self, role: str) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        assert sign_in(client, f"{role}@example.com", PASSWORD).status_code == 303
        return client


def csrf(client: TestClient, page: str = "/documents/search") -> str:
    match = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get(page).text)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    clock = ManualClock(datetime.now(UTC))
    deck = JobDeck(db_url, **FAST)
    documents = install_documents(
        deck, LocalStorage(tmp_path / "files"), index_delay=0.1, max_bytes=200_000
    )
    for role in ROLES:
        accounts.add_user(
            deck.store, clock, AccessPolicy(), Actor("test"), f"{role}@example.com", PASSWORD, role
        )
    try:
        yield Site(deck, documents)
    finally:
        documents.close()
        deck.close()


def test_attorneys_search_and_others_without_the_permission_cannot(site: Site) -> None:
    record = site.documents.upload("expert-9", "cv.pdf", files.multi_page_pdf("zymurgist"))
    with running_worker(site.deck):
        wait_settled(site.documents, [record.id])
    attorney = site.login("attorney")
    page = attorney.get("/documents/search", params={"q": "zymurgist"})
    assert page.status_code == 200
    assert "expert-9" in page.text and "<mark>zymurgist</mark>" in page.text
    answer = attorney.get("/api/search", params={"q": "zymurgist"})
    assert answer.status_code == 200
    (hit,) = answer.json()["results"]
    assert (hit["owner_id"], hit["document_id"]) == ("expert-9", record.id)
    assert hit["filename"] == "cv.pdf"
    # Attorneys search; they do not upload, delete or see the documents list.
    assert attorney.get("/documents").status_code == 403
    assert attorney.get("/api/documents").status_code == 403
    for role in ("manager", "user"):
        client = site.login(role)
        assert client.get("/documents/search", params={"q": "x"}).status_code == 403
        denied = client.get("/api/search", params={"q": "x"})
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "forbidden"
    anonymous = TestClient(site.app, follow_redirects=False)
    assert anonymous.get("/api/search", params={"q": "x"}).status_code == 401
    assert anonymous.get("/documents/search").status_code == 303  # to the login page


def test_upload_through_the_api_then_delete_and_reprocess(site: Site) -> None:
    partner = site.login("partner")
    token = csrf(partner)
    sent = partner.post(
        "/api/documents",
        data={"owner_id": "expert-7"},
        files=[
            ("files", ("../cv final.pdf", files.multi_page_pdf("oenologist"), "text/plain")),
            ("files", ("scan.pdf", files.image_only_pdf(), "application/pdf")),
        ],
        headers={"X-CSRF-Token": token},
    )
    assert sent.status_code == 201, sent.text
    cv, scan = sent.json()["documents"]
    assert cv["filename"] == "cv final.pdf"
    assert cv["content_type"] == "application/pdf"  # sniffed, not the client's text/plain
    assert cv["processing_status"] == "pending" and cv["job_id"]
    with running_worker(site.deck):
        wait_settled(site.documents, [cv["id"], scan["id"]])
        listed = partner.get("/api/documents", params={"owner_id": "expert-7"}).json()
        statuses = {d["filename"]: d["processing_status"] for d in listed["documents"]}
        assert statuses == {"cv final.pdf": "ready", "scan.pdf": "failed"}
        shown = partner.get(f"/api/documents/{scan['id']}").json()
        assert shown["error_reason"].startswith("no extractable text")
        again = partner.post(
            f"/api/documents/{scan['id']}/reprocess", headers={"X-CSRF-Token": token}
        )
        assert again.status_code == 200 and again.json()["job_id"] != scan["job_id"]
        gone = partner.delete(f"/api/documents/{cv['id']}", headers={"X-CSRF-Token": token})
        assert gone.status_code == 200
        wait_settled(site.documents, [scan["id"]])
    missing = partner.get(f"/api/documents/{cv['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    audit = [a.action_type for a in site.deck.store.list_audit(accounts_filter(), 50)]
    assert {"document_upload", "document_delete", "document_reprocess"} <= set(audit)


def accounts_filter():  # type: ignore[no-untyped-def]
    from jobdeck.store.base import AuditFilter

    return AuditFilter(executions=False)


def test_uploads_need_permission_csrf_and_fit_the_limit(site: Site) -> None:
    attorney = site.login("attorney")
    refused = attorney.post(
        "/api/documents",
        data={"owner_id": "x"},
        files=[("files", ("a.pdf", files.multi_page_pdf(), "application/pdf"))],
        headers={"X-CSRF-Token": csrf(attorney)},
    )
    assert refused.status_code == 403
    partner = site.login("partner")
    no_token = partner.post(
        "/api/documents",
        data={"owner_id": "x"},
        files=[("files", ("a.pdf", files.multi_page_pdf(), "application/pdf"))],
    )
    assert no_token.status_code == 403
    too_big = partner.post(
        "/api/documents",
        data={"owner_id": "x"},
        files=[("files", ("big.pdf", b"%PDF-1.4" + b"0" * 300_000, "application/pdf"))],
        headers={"X-CSRF-Token": csrf(partner)},
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "too_large"
    assert site.documents.find() == []


def test_the_documents_page_uploads_with_a_form(site: Site) -> None:
    partner = site.login("partner")
    page = partner.get("/documents")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    posted = partner.post(
        "/documents",
        data={"owner_id": "expert-form", "csrf_token": token.group(1)},
        files=[("files", ("cv.docx", files.docx_with_tables(), "application/octet-stream"))],
    )
    assert posted.status_code == 303
    listing = partner.get(posted.headers["location"])
    assert "cv.docx" in listing.text and "Uploaded 1 file(s)" in listing.text
    assert "Reprocess" in listing.text  # partners may operate
