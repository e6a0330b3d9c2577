"""Every page and API route with hostile values in every parameter: never a 5xx; the APIs
answer ``{"error": {"code", "message"}}``, the pages a one-line message; 405s say ``Allow``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from jobdeck import JobDeck
from jobdeck.contrib.documents import LocalStorage, install_documents
from jobdeck.contrib.documents.web import documents_api, documents_pages
from jobdeck.store.base import WorkerInfo
from jobdeck.web import PERMISSIONS, Principal
from jobdeck.worker.scheduler import Scheduler

# Hostile values overflow or are refused differently by each dialect.
pytestmark = pytest.mark.both_stores

SCHEDULE = "app.tasks.nightly_report"

# Values by the kind of parameter they attack. Ids: "²" passes str.isdigit() but int() refuses
# it; 2**63 overflows SQLite; NUL is refused by PostgreSQL's text type.
IDS = [
    "²",
    "\u0661\u0662",
    "\uff11\uff12",
    "9223372036854775808",
    "9" * 30,
    "0",
    "-1",
    "1e3",
    "abc",
    "%00",
    "%ff",
]
TEXTS = ["%00", "a%00b", "x" * 300, "%ff%fe", "%E2%98%83", "'; DROP TABLE jobs; --"]
NAMES = ["%00", "a%2Fb", "%2F", "%E2%98%83", "x" * 300, "a.b", "%20", "'", "%ED%A0%80"]
DAYS = ["0001-01-01", "9999-12-31", "9999-12-31T23:59:59-14:00", "2025-13-01", "²", "1700000000"]
INSTANTS = ["0001-01-01", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "x", "²"]
AUDIT_IDS = ["%00", "x" * 100, "op-1' OR '1'='1", "run-9223372036854775808"]

# (method, path, {query parameter: values}); {id} and {name} in a path take IDS and NAMES.
PAGES = [
    (
        "GET",
        "/jobs",
        {
            "before": IDS,
            "after": IDS,
            "job": IDS,
            "task": TEXTS,
            "from": DAYS,
            "to": DAYS,
            "period": TEXTS,
            "status": TEXTS,
        },
    ),
    ("GET", "/jobs/table", {"before": IDS, "after": IDS, "task": TEXTS, "from": DAYS}),
    ("GET", "/jobs/stats", {"period": TEXTS, "before": IDS}),
    ("GET", "/jobs/{id}/drawer", {}),
    ("POST", "/jobs/{id}/retry", {}),
    ("POST", "/jobs/{id}/cancel", {}),
    ("POST", "/jobs/1/{name}", {}),
    ("GET", "/health", {}),
    ("GET", "/schedules", {}),
    ("GET", "/schedules/summary", {}),
    ("GET", "/schedules/{name}/status", {"watch": IDS}),
    ("GET", f"/schedules/{SCHEDULE}/status", {"watch": IDS}),
    ("GET", "/schedules/{name}/runs", {}),
    ("POST", "/schedules/{name}/run", {}),
    ("POST", "/schedules/{name}/pause", {}),
    ("POST", "/schedules/{name}/resume", {}),
    ("GET", "/queues", {"period": TEXTS}),
    ("GET", "/queues/table", {"period": TEXTS}),
    ("POST", "/queues/{name}/pause", {}),
    ("POST", "/queues/{name}/resume", {}),
    ("GET", "/workers", {}),
    ("GET", "/workers/table", {}),
    ("POST", "/workers/{name}/stop", {}),
    ("GET", "/audit", {"actor": TEXTS, "action": TEXTS, "from": DAYS, "to": DAYS}),
    ("GET", "/audit?before_id=op-1", {"before_ts": INSTANTS}),
    ("GET", "/audit?before_ts=2025-01-01T00:00:00Z", {"before_id": AUDIT_IDS}),
    ("GET", "/admin/users", {}),
    ("GET", "/admin/tokens", {}),
    ("GET", "/documents", {"owner_id": TEXTS, "status": TEXTS, "before": IDS, "notice": TEXTS}),
    ("GET", "/documents/search", {"q": TEXTS}),
    ("POST", "/documents/{id}/delete", {}),
    ("POST", "/documents/{id}/reprocess", {}),
]
API = [
    (
        "GET",
        "/api/jobs",
        {
            "before": IDS,
            "after": IDS,
            "limit": IDS,
            "task": TEXTS,
            "status": TEXTS,
            "from": DAYS,
            "to": DAYS,
        },
    ),
    ("GET", "/api/jobs/{id}", {}),
    ("POST", "/api/jobs/{id}/retry", {}),
    ("POST", "/api/jobs/{id}/cancel", {}),
    ("POST", "/api/jobs/1/{name}", {}),
    ("GET", "/api/stats", {"period": TEXTS}),
    ("GET", "/api/workers", {}),
    ("GET", "/api/health", {}),
    ("GET", "/api/schedules", {}),
    ("GET", "/api/schedules/{name}", {"runs": IDS}),
    ("GET", f"/api/schedules/{SCHEDULE}", {"runs": IDS}),
    ("POST", "/api/schedules/{name}/run", {}),
    ("POST", "/api/schedules/{name}/pause", {}),
    ("POST", "/api/schedules/{name}/resume", {}),
    ("GET", "/api/queues", {"period": TEXTS}),
    ("POST", "/api/queues/{name}/pause", {}),
    ("POST", "/api/queues/{name}/resume", {}),
    ("GET", "/api/workers/processes", {}),
    ("POST", "/api/workers/{name}/stop", {}),
    (
        "GET",
        "/api/audit",
        {"actor": TEXTS, "action": TEXTS, "from": DAYS, "to": DAYS, "limit": IDS},
    ),
    ("GET", "/api/audit?before_id=op-1", {"before_ts": INSTANTS}),
    ("GET", "/api/audit?before_ts=2025-01-01T00:00:00Z", {"before_id": AUDIT_IDS}),
    ("GET", "/api/users", {}),
    ("PATCH", "/api/users/{name}", {}),
    ("GET", "/api/tokens", {}),
    ("DELETE", "/api/tokens/{id}", {}),
    ("GET", "/api/search", {"q": TEXTS, "limit": IDS}),
    ("GET", "/api/documents", {"owner_id": TEXTS, "status": TEXTS, "before": IDS, "limit": IDS}),
    ("GET", "/api/documents/{id}", {}),
    ("DELETE", "/api/documents/{id}", {}),
    ("POST", "/api/documents/{id}/reprocess", {}),
    ("POST", "/api/documents/reprocess", {"status": TEXTS, "owner_id": TEXTS}),
    ("GET", "/api/{name}", {}),
    ("GET", "/api/jobs/{name}/attempts", {}),
]


def as_admin(request: object) -> Principal:
    return Principal("tester", "tester@example.com", "admin", frozenset(PERMISSIONS))


@dataclass
class Site:
    client: TestClient
    deck: JobDeck


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    # The worker registered below stays fresh (3 heartbeats) for the whole test, however
    # long a loaded machine makes it: at the default 5 s, /api/health turned 503 midway.
    deck = JobDeck(db_url, heartbeat_interval=600.0, lease_duration=1200.0)
    deck.periodic(name=SCHEDULE, cron="0 3 * * *")(lambda: {"done": True})
    deck.task(name="send_email")(lambda to: {"sent": True})
    Scheduler(deck).sync()
    deck.tasks["send_email"].enqueue(to="a@example.com")
    now = deck.clock.now()  # a live worker: /api/health answers 200, not its documented 503
    deck.store.register_worker(WorkerInfo("w1", "host", 1, ["default"], 1, now, now))
    documents = install_documents(deck, LocalStorage(tmp_path / "files"), max_bytes=10_000)
    app = deck.asgi(
        authorize=as_admin,
        extra_routers=[documents_pages(documents), documents_api(documents)],
    )
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        client.get("/jobs")  # the double-submit CSRF cookie, sent back as the header
        client.headers["X-CSRF-Token"] = str(client.cookies.get("jobdeck_csrf"))
        yield Site(client, deck)
    documents.close()
    deck.close()


def requests(routes: list[tuple[str, str, dict[str, list[str]]]]) -> Iterator[tuple[str, str]]:
    """Each route once per hostile path value, then once per hostile value of each parameter
    (the others left out). Values are already percent-encoded where they need to be."""
    for method, path, query in routes:
        if "{id}" in path or "{name}" in path:
            values = IDS if "{id}" in path else NAMES
            for value in values:
                yield method, path.replace("{id}", value).replace("{name}", value)
            continue
        yield method, path
        joiner = "&" if "?" in path else "?"
        for key, values in query.items():
            for value in values:
                yield method, f"{path}{joiner}{key}={value}"


def is_api(path: str) -> bool:
    return path.startswith("/api")


def assert_error_shape(response: Response, where: str) -> None:
    body = response.json()
    assert set(body) == {"error"}, (where, body)
    assert isinstance(body["error"]["code"], str) and body["error"]["code"], (where, body)
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], (where, body)
    assert "\n" not in body["error"]["message"], (where, body)


def send(client: TestClient, method: str, path: str, **kwargs: object) -> Response:
    # The client must not re-encode the hostile values: build the URL as given.
    return client.request(method, client.base_url.join(path), **kwargs)  # type: ignore[arg-type]


def test_hostile_values_in_every_parameter_never_give_a_server_error(site: Site) -> None:
    seen: dict[int, int] = {}
    failures = []
    for method, path in requests(PAGES + API):
        response = send(site.client, method, path)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        where = f"{method} {path[:80]} -> {response.status_code}"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.text[:200]}")
            continue
        if response.status_code >= 400 and is_api(path):
            assert_error_shape(response, where)
        elif response.status_code in (400, 422):
            assert "text/html" in response.headers["content-type"], where
            assert re.search(r'class="error-message">[^<\n]+</p>', response.text), where
    assert not failures, "\n".join(failures)
    assert seen.get(422, 0) > 100, seen  # the values were refused, not quietly accepted


def test_the_lenient_filters_of_the_pages_say_what_they_ignored(site: Site) -> None:
    cases = {
        "/jobs?before=²": "Ignored the page cursor before=",
        "/jobs?job=9223372036854775808": "Ignored job=",
        "/jobs?task=a%00b": "Ignored the task filter",
        "/jobs?from=2025-13-01": "From Date must be a date",
        "/jobs?to=1700000000": "To Date must be a date",
        "/audit?to=31/12/2025": "to must be a date",
        "/audit?actor=%00": "Ignored the actor filter",
        "/audit?before_ts=yesterday&before_id=op-1": "page cursor is invalid",
        "/audit?before_ts=2025-01-01T00:00:00Z&before_id=1": "page cursor is invalid",
    }
    for path, notice in cases.items():
        page = send(site.client, "GET", path)
        assert page.status_code == 200, (path, page.status_code)
        assert notice in page.text, (path, page.text[:300])


def test_a_bad_fragment_parameter_is_a_toast_for_htmx(site: Site) -> None:
    answer = send(
        site.client, "GET", f"/schedules/{SCHEDULE}/status?watch=²", headers={"HX-Request": "true"}
    )
    assert answer.status_code == 422
    assert answer.headers["HX-Reswap"] == "none"
    toast = json.loads(answer.headers["HX-Trigger"])["jobdeck:toast"]
    assert toast["kind"] == "error" and toast["message"].startswith("Invalid request: watch")


def test_wrong_methods_say_which_ones_the_path_takes(site: Site) -> None:
    cases = {
        ("PUT", "/api/jobs"): {"GET", "POST"},  # POST: a new job
        ("DELETE", "/api/jobs/1/retry"): {"POST"},
        ("GET", "/api/jobs/1/retry"): {"POST"},
        ("POST", "/api/tokens/1"): {"DELETE"},
        # Not GET, though GET would read a schedule named ".../run": in the schema, a name is
        # one path segment (a slash in it is sent as %2F).
        ("PUT", f"/api/schedules/{SCHEDULE}/run"): {"POST"},
        ("PUT", "/api/users"): {"GET", "POST"},
        ("DELETE", "/jobs"): {"GET"},
    }
    for (method, path), allowed in cases.items():
        answer = send(site.client, method, path)
        assert answer.status_code == 405, (method, path, answer.status_code)
        assert "allow" in answer.headers, (method, path)
        given = {m.strip() for m in answer.headers["allow"].split(",")} - {"HEAD"}
        assert given == allowed, (method, path, answer.headers["allow"])
        if is_api(path):
            assert_error_shape(answer, f"{method} {path}")
            assert answer.json()["error"]["code"] == "method_not_allowed"


def test_unknown_api_paths_are_404_in_the_api_shape(site: Site) -> None:
    for path in ("/api/nope", "/api/jobs/1/attempts/2", "/api/%00", "/api/schedules/a%2Fb"):
        answer = send(site.client, "GET", path)
        assert answer.status_code == 404, (path, answer.status_code)
        assert_error_shape(answer, path)
        assert answer.json()["error"]["code"] == "not_found"


BAD_BODIES = [
    ("POST", "/api/users", {"email": "a\x00@example.com", "password": "x" * 10, "role": "admin"}),
    ("POST", "/api/users", {"email": "a@example.com", "password": "\x00" * 10, "role": "admin"}),
    ("POST", "/api/users", {"email": "a@example.com", "password": "x" * 10, "role": "a\x00"}),
    (
        "POST",
        "/api/users",
        {"email": "a@example.com", "password": "x" * 9, "role": "admin", "name": "\x00"},
    ),
    ("PATCH", "/api/users/a@example.com", {"role": "\x00"}),
    ("PATCH", "/api/users/a@example.com", {"password": "\x00" * 10}),
    ("POST", "/api/tokens", {"name": "\x00", "role": "admin"}),
    ("POST", "/api/tokens", {"name": "x" * 10_000, "role": "admin"}),
    ("POST", "/api/tokens", {"name": "ok", "role": 7}),
    ("POST", "/api/tokens", ["not", "an", "object"]),
]
SURROGATES = [
    (
        "POST",
        "/api/users",
        '{"email": "a\\udc00@example.com", "password": "xxxxxxxxxx", "role": "admin"}',
    ),
    (
        "POST",
        "/api/users",
        '{"email": "a@example.com", "password": "\\ud800xxxxxxxxx", "role": "admin"}',
    ),
    ("POST", "/api/tokens", '{"name": "\\udfff", "role": "admin"}'),
    ("PATCH", "/api/users/a@example.com", '{"password": "\\ud800\\ud800\\ud800\\ud800"}'),
    ("POST", "/api/tokens", '{"name": "ok", "role": "admin"'),
]


def test_json_bodies_the_stores_cannot_hold_are_refused(site: Site) -> None:
    site.client.post(
        "/api/users", json={"email": "a@example.com", "password": "x" * 10, "role": "admin"}
    )
    for method, path, body in BAD_BODIES:
        answer = send(site.client, method, path, json=body)
        assert answer.status_code in (400, 422), (method, path, body, answer.text[:200])
        assert_error_shape(answer, f"{method} {path}")
    for method, path, raw in SURROGATES:
        answer = send(
            site.client, method, path, content=raw, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422, (method, path, raw, answer.text[:200])
        assert_error_shape(answer, f"{method} {path}")


def post_multipart(client: TestClient, path: str, filename: bytes) -> Response:
    """An upload whose file name holds raw bytes (clients would percent-encode a NUL)."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="owner_id"\r\n\r\nexpert-1\r\n'
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="' + filename + b'"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
    )
    headers = {"content-type": "multipart/form-data; boundary=b"}
    return client.post(path, content=body, headers=headers)


def test_forms_with_nul_characters_are_refused(site: Site) -> None:
    forms = [
        (
            "/admin/users",
            {"action": "add", "email": "a\x00@example.com", "password": "x" * 10, "role": "admin"},
        ),
        ("/admin/users", {"action": "set_role", "email": "\x00", "role": "admin"}),
        ("/admin/tokens", {"action": "create", "name": "\x00", "role": "admin"}),
        ("/admin/tokens", {"action": "revoke", "id": "²"}),
        ("/admin/tokens", {"action": "revoke", "id": "9223372036854775808"}),
    ]
    for path, form in forms:
        answer = site.client.post(path, data=form)
        assert answer.status_code in (400, 422), (path, form, answer.status_code)
    files = {"files": ("cv.txt", b"hello", "text/plain")}
    for path in ("/documents", "/api/documents"):
        answer = site.client.post(path, data={"owner_id": "a\x00"}, files=files)
        assert answer.status_code == 422, (path, answer.text[:200])
        for filename in (b"c\x00v.txt", b"c\xffv.txt", b"\xed\xa0\x80.txt"):
            answer = post_multipart(site.client, path, filename)
            assert answer.status_code < 500, (path, filename, answer.text[:200])
            if is_api(path) and answer.status_code >= 400:
                assert_error_shape(answer, path)
        assert post_multipart(site.client, path, b"c\x00v.txt").status_code == 422
    answer = site.client.post(
        "/api/documents",
        data={"owner_id": "expert-1"},
        files=files,
        headers={"content-length": "²".encode("latin-1")},  # type: ignore[dict-item]
    )
    assert answer.status_code < 500, answer.text[:200]


def test_values_are_read_as_the_schema_writes_them(site: Site) -> None:
    """pydantic alone reads "0" as a date (a Unix time) and "+5" as an id; the schema says
    neither. Days and instants beyond what any row holds are clamped, not refused."""
    refused = [
        "/api/jobs?from=0",
        "/api/jobs?to=1700000000",
        "/api/jobs?before=+5",
        "/api/jobs?after=%205",
        "/api/jobs?before=1_000",
        "/api/jobs/1.0",
        "/api/audit?before_ts=0&before_id=op-1",
        "/api/audit?before_ts=2025-01-01&before_id=op-1",
    ]
    for path in refused:
        answer = send(site.client, "GET", path)
        assert answer.status_code == 422, (path, answer.status_code)
        assert answer.json()["error"]["code"] == "invalid"
    clamped = [
        "/api/jobs?from=0001-01-01&to=9999-12-31",
        "/api/audit?from=0001-01-01&to=9999-12-31",
        "/api/audit?before_ts=9999-12-31T23:59:59-14:00&before_id=op-1",
        "/api/audit?before_ts=0001-01-01T00:00:00%2B14:00&before_id=op-1",
        "/jobs?from=0001-01-01&to=9999-12-31",
    ]
    for path in clamped:
        answer = send(site.client, "GET", path)
        assert answer.status_code == 200, (path, answer.text[:200])
    jobs = send(site.client, "GET", "/api/jobs?from=0001-01-01&to=9999-12-31").json()["jobs"]
    assert len(jobs) == 1, "the clamped range still holds every job"


def test_unknown_users_and_tokens_are_404_and_a_revoked_token_409(site: Site) -> None:
    answer = site.client.patch("/api/users/nobody@example.com", json={"active": False})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert site.client.delete("/api/tokens/999").status_code == 404
    created = site.client.post("/api/tokens", json={"name": "ci", "role": "admin"})
    token_id = created.json()["token"]["id"]
    assert site.client.delete(f"/api/tokens/{token_id}").status_code == 204
    again = site.client.delete(f"/api/tokens/{token_id}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
