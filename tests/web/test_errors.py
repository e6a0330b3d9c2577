"""One error table: the same refusal has the same status and message on a page (and its htmx
toast) as in the API, and a store outage is told without the store's internals."""

from __future__ import annotations

import html
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from jobdeck import JobDeck, errors
from jobdeck.web.access import Principal
from jobdeck.web.errors import ERROR_TABLE, SCHEMA_MISMATCH, STORE_DOWN, public_error
from jobdeck.worker.scheduler import Scheduler

SCHEDULE = "app.tasks.nightly_report"


def by_header(request: Request) -> Principal | None:
    role = request.headers.get("X-Role", "admin")
    return Principal.with_role("u1", f"{role}@example.com", role) if role != "none" else None


def client_of(deck: JobDeck) -> TestClient:
    client = TestClient(deck.asgi(authorize=by_header), follow_redirects=False)
    client.get("/jobs")  # the double-submit CSRF cookie, sent back as the header
    client.headers["X-CSRF-Token"] = str(client.cookies.get("jobdeck_csrf"))
    return client


@pytest.fixture
def deck(db_url: str) -> Iterator[JobDeck]:
    deck = JobDeck(db_url)
    deck.periodic(name=SCHEDULE, cron="0 3 * * *")(lambda: {"done": True})
    deck.task(name="send_email")(lambda to: {"sent": True})
    Scheduler(deck).sync()
    deck.tasks["send_email"].enqueue(to="a@example.com")  # job 1, available: not retryable
    yield deck
    deck.close()


def page_message(answer: object) -> str:
    """The one line an error page shows (a refusal of access: its heading)."""
    text = answer.text  # type: ignore[attr-defined]
    found = re.search(r'class="error-message">([^<]+)</p>', text) or re.search(
        r"<h1>([^<]+)</h1>", text.split("<main", 1)[-1]
    )
    assert found, text[:300]
    return html.unescape(found.group(1))


def toast_message(answer: object) -> str:
    trigger = json.loads(answer.headers["HX-Trigger"])  # type: ignore[attr-defined]
    return str(trigger["jobdeck:toast"]["message"])


# (what, method, page path, API path, extra headers, expected status, expected code)
SAME_ERRORS = [
    ("invalid transition", "POST", "/jobs/1/retry", "/api/jobs/1/retry", {}, 409, "conflict"),
    ("unknown job", "GET", "/jobs/999/drawer", "/api/jobs/999", {}, 404, "not_found"),
    (
        "unknown job action",
        "POST",
        "/jobs/999/cancel",
        "/api/jobs/999/cancel",
        {},
        404,
        "not_found",
    ),
    (
        "unknown schedule",
        "POST",
        "/schedules/nope/run",
        "/api/schedules/nope/run",
        {},
        404,
        "not_found",
    ),
    ("not an id", "GET", "/jobs/abc/drawer", "/api/jobs/abc", {}, 422, "invalid"),
    (
        "no permission",
        "GET",
        "/jobs/1/drawer",
        "/api/jobs/1",
        {"X-Role": "attorney"},
        403,
        "forbidden",
    ),
]


@pytest.mark.parametrize(
    ("what", "method", "page", "api", "headers", "status", "code"), SAME_ERRORS
)
def test_the_same_error_has_the_same_status_on_a_page_and_in_the_api(
    deck: JobDeck,
    what: str,
    method: str,
    page: str,
    api: str,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    client = client_of(deck)
    from_api = client.request(method, api, headers=headers)
    from_page = client.request(method, page, headers=headers)
    from_htmx = client.request(method, page, headers={**headers, "HX-Request": "true"})
    assert (from_api.status_code, from_page.status_code, from_htmx.status_code) == (status,) * 3
    assert from_api.json()["error"]["code"] == code
    message = from_api.json()["error"]["message"]
    assert toast_message(from_htmx) == page_message(from_page)
    if status == 422:  # the page names the parameter as a person reads it: "job_id", not "path."
        assert page_message(from_page) == "Invalid request: " + message.removeprefix("path.")
    else:
        assert page_message(from_page) == message


def test_a_rule_of_the_accounts_is_the_same_400_on_the_admin_page_and_in_the_api(
    deck: JobDeck,
) -> None:
    client = client_of(deck)
    from_api = client.post("/api/tokens", json={"name": "ci", "role": "no-such-role"})
    from_page = client.post(
        "/admin/tokens", data={"action": "create", "name": "ci", "role": "no-such-role"}
    )
    assert from_api.status_code == from_page.status_code == 400
    assert from_api.json()["error"]["code"] == "bad_request"
    assert from_api.json()["error"]["message"] in html.unescape(from_page.text)


def test_a_store_outage_is_503_everywhere_and_names_no_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "jobs.db"
    deck = JobDeck(f"sqlite:///{missing}")
    try:
        assert_unavailable(client_of(deck), STORE_DOWN, str(tmp_path))
    finally:
        deck.close()


def test_a_database_without_the_schema_is_503_everywhere_and_names_no_path(tmp_path: Path) -> None:
    deck = JobDeck(f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated
    try:
        assert_unavailable(client_of(deck), SCHEMA_MISMATCH, str(tmp_path))
    finally:
        deck.close()


def assert_unavailable(client: TestClient, message: str, secret: str) -> None:
    from_api = client.get("/api/jobs/1")
    from_page = client.get("/jobs/1/drawer")
    from_htmx = client.get("/jobs/1/drawer", headers={"HX-Request": "true"})
    assert from_api.status_code == from_page.status_code == from_htmx.status_code == 503
    assert from_api.json() == {"error": {"code": "unavailable", "message": message}}
    assert page_message(from_page) == toast_message(from_htmx) == message
    for answer in (from_api, from_page, from_htmx):
        assert secret not in answer.text and secret not in answer.headers.get("HX-Trigger", "")


def test_every_jobdeck_error_has_a_row_and_a_one_line_message() -> None:
    classes = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        # Raised by and inside tasks, never through the dashboard: they end attempts.
        if issubclass(cls, errors.JobDeckError)
        and cls not in (errors.PermanentFailure, errors.JobCancelled)
    ]
    for cls in classes:
        exc = (
            cls("first line\nsecond line", "extra")
            if cls in (errors.MissingExtra, errors.ArgumentError)  # (name, why) errors
            else cls("first line\nsecond line")
        )
        error = public_error(exc)
        assert error.status in (400, 404, 409, 422, 501, 503), cls
        assert "\n" not in error.message, cls
        listed = any(base in ERROR_TABLE for base in cls.__mro__ if base is not errors.JobDeckError)
        assert listed or cls is errors.JobDeckError, f"{cls.__name__} is answered by the catch-all"
