"""Every page and API route x anonymous, each role, a revoked token and an expired session."""

from __future__ import annotations

import pytest

from jobdeck import accounts
from jobdeck.accounts import DEFAULT_ROLES, AccessPolicy, Actor
from tests.web.conftest import ROLES, Site, csrf_of

# (method, path, permission); {job} and {name} are filled with real targets.
PAGES = [
    ("GET", "/jobs", "view"),
    ("GET", "/jobs/table", "view"),
    ("GET", "/jobs/stats", "view"),
    ("GET", "/jobs/{job}/drawer", "view"),
    ("GET", "/health", "view"),
    ("GET", "/schedules", "view"),
    ("GET", "/schedules/summary", "view"),
    ("GET", "/schedules/{name}/status", "view"),
    ("GET", "/schedules/{name}/runs", "view"),
    ("GET", "/queues", "view"),
    ("GET", "/queues/table", "view"),
    ("GET", "/workers", "view"),
    ("GET", "/workers/table", "view"),
    ("GET", "/audit", "logs"),
    ("GET", "/admin/users", "admin"),
    ("GET", "/admin/tokens", "admin"),
    ("POST", "/jobs/{job}/retry", "operate"),
    ("POST", "/jobs/{job}/cancel", "operate"),
    ("POST", "/schedules/{name}/run", "trigger"),
    ("POST", "/schedules/{name}/pause", "operate"),
    ("POST", "/schedules/{name}/resume", "operate"),
    ("POST", "/queues/{name}/pause", "operate"),
    ("POST", "/queues/{name}/resume", "operate"),
    ("POST", "/workers/{name}/stop", "operate"),
]
API = [
    ("GET", "/api/jobs", "view"),
    ("GET", "/api/jobs/{job}", "view"),
    ("GET", "/api/stats", "view"),
    ("GET", "/api/workers", "view"),
    ("GET", "/api/schedules", "view"),
    ("GET", "/api/schedules/{name}", "view"),
    ("GET", "/api/queues", "view"),
    ("GET", "/api/workers/processes", "view"),
    ("GET", "/api/audit", "logs"),
    ("GET", "/api/users", "admin"),
    ("GET", "/api/tokens", "admin"),
    ("POST", "/api/jobs/{job}/retry", "operate"),
    ("POST", "/api/jobs/{job}/cancel", "operate"),
    ("POST", "/api/schedules/{name}/run", "trigger"),
    ("POST", "/api/schedules/{name}/pause", "operate"),
    ("POST", "/api/schedules/{name}/resume", "operate"),
    ("POST", "/api/queues/{name}/pause", "operate"),
    ("POST", "/api/queues/{name}/resume", "operate"),
    ("POST", "/api/workers/{name}/stop", "operate"),
]


def fill(site: Site, path: str) -> str:
    job = site.deck.tasks["send_email"].enqueue(to="a@example.com")
    return path.replace("{job}", str(job.id)).replace("{name}", "check-sla-and-overdue")


def call(client, method: str, path: str, csrf: str | None = None, token: str | None = None):  # type: ignore[no-untyped-def]
    headers = {}
    if csrf:
        headers["X-CSRF-Token"] = csrf
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.request(method, path, headers=headers)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_role_map_allows(site: Site, role: str) -> None:
    client = site.login(f"{role}@example.com")
    csrf = csrf_of(client)
    allowed = DEFAULT_ROLES[role]
    for method, path, permission in PAGES + API:
        response = call(client, method, fill(site, path), csrf)
        if permission in allowed:
            assert response.status_code not in (401, 403, 500), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)


def test_roles_without_access_get_a_clear_page_not_a_blank_one(site: Site) -> None:
    for role in ("manager", "ca", "advocate", "user", "attorney"):
        page = site.login(f"{role}@example.com").get("/jobs")
        assert page.status_code == 403
        assert "have access to background jobs" in page.text.replace("&#39;", "'")


def test_anonymous_is_sent_to_sign_in_and_the_api_says_401(site: Site) -> None:
    client = site.client()
    for method, path, _ in PAGES:
        response = call(client, method, fill(site, path))
        if method == "GET":
            assert response.status_code == 303 and "/login" in response.headers["location"], path
        else:
            assert response.status_code in (303, 401, 403), path
    for method, path, _ in API:
        response = call(client, method, fill(site, path))
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"


def test_tokens_act_with_their_role_and_stop_when_revoked(site: Site) -> None:
    deck = site.deck
    secret, token = accounts.create_token(
        deck.store, site.clock, AccessPolicy(), Actor("t"), "script", "partner"
    )
    client = site.client()
    assert call(client, "GET", "/api/jobs", token=secret).status_code == 200
    assert call(client, "GET", "/api/users", token=secret).status_code == 403
    assert (
        call(client, "POST", fill(site, "/api/schedules/{name}/run"), token=secret).status_code
        == 200
    )  # no CSRF needed with a token
    accounts.revoke_token(deck.store, site.clock, Actor("t"), token.id)
    for method, path, _ in API:
        assert call(client, method, fill(site, path), token=secret).status_code == 401, path


def test_sessions_expire_when_idle_and_at_their_absolute_limit(site: Site) -> None:
    client = site.login("admin@example.com")
    assert client.get("/jobs").status_code == 200
    site.clock.advance(hours=2, minutes=1)  # idle limit 2 h
    assert client.get("/jobs").status_code == 303
    assert call(client, "GET", "/api/jobs").status_code == 401
    client = site.login("admin@example.com")
    for _ in range(13):  # active every hour, still cut at 12 h
        site.clock.advance(hours=1)
        client.get("/jobs")
    assert client.get("/jobs").status_code == 303


def test_disabled_user_and_changed_role_lose_their_sessions(site: Site) -> None:
    client = site.login("partner@example.com")
    assert client.get("/jobs").status_code == 200
    accounts.set_role(
        site.deck.store, site.clock, AccessPolicy(), Actor("t"), "partner@example.com", "manager"
    )
    assert client.get("/jobs").status_code == 303
    again = site.login("partner@example.com")
    assert again.get("/jobs").status_code == 403
    accounts.set_active(site.deck.store, site.clock, Actor("t"), "partner@example.com", False)
    assert again.get("/jobs").status_code == 303


def test_session_cookie_flags_and_rotation(site: Site) -> None:
    client = site.client()
    client.cookies.set("jobdeck_session", "planted-by-attacker")
    from tests.web.conftest import sign_in

    response = sign_in(client, "admin@example.com", "correct horse battery")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP in tests; Secure is set over HTTPS
    new_value = cookie.split(";")[0].split("=", 1)[1]
    assert new_value and new_value != "planted-by-attacker"
    fresh = site.client()
    fresh.cookies.set("jobdeck_session", "planted-by-attacker")
    assert fresh.get("/jobs").status_code == 303  # a planted id is never a session


def test_host_app_authorize_replaces_the_login(site: Site) -> None:
    from fastapi.testclient import TestClient

    from jobdeck.web.access import Principal

    def authorize(request):  # type: ignore[no-untyped-def]
        role = request.headers.get("X-Host-Role")
        return Principal.with_role("u1", "host user", role) if role else None

    client = TestClient(site.deck.asgi(authorize=authorize), follow_redirects=False)
    assert client.get("/jobs", headers={"X-Host-Role": "partner"}).status_code == 200
    assert client.get("/jobs", headers={"X-Host-Role": "manager"}).status_code == 403
    assert client.get("/jobs").status_code == 401  # no jobdeck login page in host mode
    assert client.get("/login").status_code == 303


def test_expired_session_then_fresh_login_works(site: Site) -> None:
    client = site.login("admin@example.com")
    site.clock.advance(hours=13)
    assert client.get("/jobs").status_code == 303
    assert site.login("admin@example.com").get("/jobs").status_code == 200
