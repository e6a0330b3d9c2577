"""HTML, script and SQL in job data are stored verbatim and rendered inert; API filters with
such values answer normally."""

from __future__ import annotations

import json

import pytest

from jobdeck.store.base import NewJob
from tests.web.conftest import Site

# Each dialect quotes and casts what a request carries its own way.
pytestmark = pytest.mark.both_stores

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE jobs; --",
    '" onmouseover="alert(1)',
    "{{ 7*7 }}",
]


def test_payloads_are_stored_verbatim_and_escaped_in_pages(site: Site) -> None:
    store = site.deck.store
    ids = []
    for payload in PAYLOADS:
        job = NewJob(
            task=payload,
            args_json=json.dumps({"x": payload}),
            labels_json=json.dumps({"note": payload}),
        )
        ids.append(store.insert_jobs([job])[0].job_id)
    for job_id, payload in zip(ids, PAYLOADS, strict=True):
        row = store.get_job(job_id)
        assert row.task == payload and row.args["x"] == payload and row.labels["note"] == payload
    admin = site.login("admin@example.com")
    listing = admin.get("/jobs").text
    drawer = admin.get(f"/jobs/{ids[0]}/drawer").text
    for html in (listing, drawer):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x onerror" not in html
    assert "49" not in admin.get(f"/jobs/{ids[4]}/drawer").text.split("{{")[0][-5:]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_api_filters_with_payloads_answer_normally(site: Site, payload: str) -> None:
    admin = site.login("admin@example.com")
    for path, params in (
        ("/api/jobs", {"task": payload}),
        ("/api/audit", {"actor": payload}),
        ("/api/audit", {"action": payload}),
        ("/jobs/table", {"task": payload}),
    ):
        response = admin.get(path, params=params)
        assert response.status_code == 200, (path, payload, response.text[:200])
    assert (
        site.deck.store.count_jobs(
            __import__("jobdeck.store.base", fromlist=["JobFilter"]).JobFilter()
        )
        >= 0
    )  # the table is still there


def test_results_and_tracebacks_with_markup_stay_text(site: Site) -> None:
    deck = site.deck

    @deck.task(name="shouty", max_attempts=1)
    def shouty() -> None:
        raise ValueError("<b>bold</b><script>steal()</script>")

    @deck.task(name="marked")
    def marked() -> dict[str, str]:
        return {"html": "<script>steal()</script>", "summary": "<i>done</i>"}

    import threading

    failing, ok = shouty.enqueue(), marked.enqueue()
    worker = deck.worker(concurrency=2, heartbeat_interval=0.2, lease_duration=2)
    thread = threading.Thread(target=worker.run, kwargs={"install_signals": False})
    thread.start()
    try:
        failing.wait(10)
        ok.wait(10)
    finally:
        worker.stop()
        thread.join()
    admin = site.login("admin@example.com")
    for job in (failing, ok):
        html = admin.get(f"/jobs/{job.id}/drawer").text
        assert "<script>steal()</script>" not in html
        assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert failing.refresh().error == "ValueError: <b>bold</b><script>steal()</script>"


def test_out_of_range_cursors_and_ids_are_refused_cleanly(site: Site) -> None:
    admin = site.login("admin@example.com")
    huge = str(2**70)
    assert admin.get("/jobs/table", params={"before": huge}).status_code == 200
    assert admin.get("/jobs", params={"after": huge}).status_code == 200
    assert admin.get("/api/jobs", params={"before": huge}).status_code == 422
    assert admin.get(f"/api/jobs/{huge}").status_code == 422
    assert admin.get(f"/jobs/{huge}/drawer").status_code == 422
