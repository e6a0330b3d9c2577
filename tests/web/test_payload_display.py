"""Large job values on the Jobs page and in the drawer: shown shortened, with a link to the whole
job as JSON, so no page grows with a payload; rows from before the payload limits (nested
hundreds of levels deep, very long names) render on every page and in the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobdeck.store.base import NewJob
from tests.web.conftest import Site

# How much more HTML a job with a huge payload may cost than one with a tiny payload.
GROWTH_ALLOWED = 50_000


def nest(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def insert(site: Site, args: Any, **fields: Any) -> int:
    text = args if isinstance(args, str) else json.dumps(args)
    job = NewJob(task=fields.pop("task", "bulk_import"), args_json=text, **fields)
    return site.deck.store.insert_jobs([job])[0].job_id


def pages(client: TestClient, job_id: int) -> tuple[str, str]:
    """The drawer fragment and the Jobs page opened on the job (list + drawer)."""
    drawer = client.get(f"/jobs/{job_id}/drawer")
    page = client.get(f"/jobs?job={job_id}")
    assert drawer.status_code == 200, drawer.text[:300]
    assert page.status_code == 200, page.text[:300]
    return drawer.text, page.text


LARGE = {
    "900 kB of arguments": {"blob": "x" * 900_000},
    "a 5,000-character string": {"note": "word " * 1_000},
    "30 levels deep": {"tree": nest(29)},
    "5,000 keys": {"rows": {f"key{i}": i for i in range(5_000)}},
    "5,000 items": {"ids": list(range(5_000))},
}


@pytest.mark.parametrize("case", list(LARGE))
def test_large_arguments_are_shortened_with_a_link_to_the_whole_job(site: Site, case: str) -> None:
    args = LARGE[case]
    admin = site.login("admin@example.com")
    small_drawer, small_page = pages(admin, insert(site, {"to": "a@example.com"}))
    job_id = insert(site, args)
    drawer, page = pages(admin, job_id)
    for html, baseline in ((drawer, small_drawer), (page, small_page)):
        assert len(html) < len(baseline) + GROWTH_ALLOWED, (case, len(html), len(baseline))
        assert f'href="api/jobs/{job_id}"' in html
        assert "shortened" in html
    whole = admin.get(f"/api/jobs/{job_id}")
    assert whole.status_code == 200 and whole.json()["job"]["args"] == args


def test_small_values_are_shown_whole_without_a_link(site: Site) -> None:
    admin = site.login("admin@example.com")
    args = {"to": "a@example.com", "tags": ["x", "y"], "n": 3}
    job_id = insert(site, args)
    drawer, _ = pages(admin, job_id)
    stored = site.deck.store.get_job(job_id).args  # PostgreSQL's jsonb orders keys its own way
    shown = json.dumps(stored, indent=2).replace('"', "&#34;")
    assert shown in drawer
    assert f'href="api/jobs/{job_id}"' not in drawer


def test_a_large_result_summary_and_error_are_shortened(site: Site) -> None:
    deck = site.deck

    @deck.task(name="report")
    def report() -> dict[str, Any]:
        return {"summary": "done " * 2_000, "rows": ["r" * 200] * 4_000}

    @deck.task(name="explode", max_attempts=1)
    def explode() -> None:
        raise ValueError("bad " * 100_000)

    admin = site.login("admin@example.com")
    small_drawer, small_page = pages(admin, insert(site, {}))
    done, failed = report.enqueue(), explode.enqueue()
    import threading

    worker = deck.worker(concurrency=2, heartbeat_interval=0.2, lease_duration=2)
    thread = threading.Thread(target=worker.run, kwargs={"install_signals": False})
    thread.start()
    try:
        done.wait(15)
        failed.wait(15)
    finally:
        worker.stop()
        thread.join(10)
    assert done.state == "succeeded" and failed.state == "failed"
    for job_id in (done.id, failed.id):
        drawer, page = pages(admin, job_id)
        assert len(drawer) < len(small_drawer) + GROWTH_ALLOWED, (job_id, len(drawer))
        assert len(page) < len(small_page) + GROWTH_ALLOWED, (job_id, len(page))
        assert f'href="api/jobs/{job_id}"' in drawer


def test_rows_from_before_the_limits_render_everywhere(site: Site) -> None:
    """Values the new limits refuse but older versions stored: deep, long, many labels."""
    admin = site.login("admin@example.com")
    ids = [
        *(insert(site, '{"x": ' + "[" * n + "]" * n + "}") for n in (300, 960, 2_000)),
        insert(
            site,
            {"ok": 1},
            task="t" * 2_000,
            queue="q" * 2_000,
            labels_json=json.dumps({f"label{i}": "v" * 5_000 for i in range(200)}),
        ),
    ]
    small_drawer, small_page = pages(admin, insert(site, {"to": "a@example.com"}))
    for job_id in ids:
        drawer, page = pages(admin, job_id)
        assert len(drawer) < len(small_drawer) + GROWTH_ALLOWED, (job_id, len(drawer))
        assert len(page) < len(small_page) + GROWTH_ALLOWED, (job_id, len(page))
        detail = admin.get(f"/api/jobs/{job_id}")
        assert detail.status_code == 200, detail.text[:300]
    listing = admin.get("/api/jobs")
    assert listing.status_code == 200, listing.text[:300]
    assert len(listing.json()["jobs"]) == len(ids) + 1
    table = admin.get("/jobs/table")
    assert table.status_code == 200 and len(table.text) < 100_000
