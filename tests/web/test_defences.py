"""The dashboard defends itself: security headers, same-origin state changes, a bounded and
even-handed sign-in, session lifetimes from settings, forwarded headers only from trusted
proxies, and API tokens that die with their maker's account."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jobdeck import JobDeck, ManualClock, accounts
from jobdeck.accounts import AccessPolicy, Actor
from jobdeck.store.base import AuditFilter
from jobdeck.web.security import behind_proxies, parse_networks
from tests.web.conftest import PASSWORD, Site, csrf_of, sign_in

ORIGIN = "http://testserver"


def audit_of(site: Site, action: str) -> list[Any]:
    return site.deck.store.list_audit(AuditFilter(action_type=action, executions=False), 500)


# -- 1. security headers ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/jobs", "/api/jobs", "/static/app.js", "/nowhere"])
def test_every_response_carries_the_security_headers(site: Site, path: str) -> None:
    response = site.login("admin@example.com").get(path)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


def test_hosts_that_embed_the_dashboard_name_their_pages(db_url: str) -> None:
    deck = JobDeck(db_url, frame_ancestors=("'self'", "https://intranet.example"))
    try:
        response = TestClient(deck.asgi()).get("/login")
    finally:
        deck.close()
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://intranet.example" in policy
    assert "x-frame-options" not in response.headers  # it cannot say "these two"


def test_mounted_in_a_host_the_headers_cover_jobdecks_routes_only(site: Site) -> None:
    host = FastAPI()

    @host.get("/home")
    def home() -> dict[str, str]:
        return {"page": "host"}

    host.mount("/admin/jobs", site.app)  # type: ignore[arg-type]
    client = TestClient(host)
    assert "content-security-policy" not in client.get("/home").headers
    assert "content-security-policy" in client.get("/admin/jobs/login").headers


def test_pages_hold_no_inline_script(site: Site) -> None:
    admin = site.login("admin@example.com")
    job = site.deck.tasks["send_email"].enqueue(to="a@example.com")
    for path in ("/jobs", f"/jobs?job={job.id}", "/schedules", "/audit", "/admin/users", "/login"):
        html = admin.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "javascript:" not in html, path


# -- 2. CSRF in depth: Origin and Referer --------------------------------------------------------


def test_a_foreign_origin_is_refused_even_with_a_valid_token(site: Site) -> None:
    admin = site.login("admin@example.com")
    job = site.deck.tasks["send_email"].enqueue(to="a@example.com")
    token = {"X-CSRF-Token": csrf_of(admin)}
    foreign = [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},  # another scheme is another origin
        {"Referer": "https://evil.example/page"},
        {"Referer": "not a url"},
    ]
    for headers in foreign:
        response = admin.post(f"/jobs/{job.id}/cancel", headers={**token, **headers})
        assert response.status_code == 403, headers
        assert admin.post(f"/api/jobs/{job.id}/cancel", headers={**token, **headers}).status_code
        assert job.refresh().state == "available"
    same = admin.post(f"/jobs/{job.id}/cancel", headers={**token, "Origin": ORIGIN})
    assert same.status_code == 200 and job.refresh().state == "cancelled"


def test_a_same_origin_referer_is_enough_when_the_browser_sends_no_origin(site: Site) -> None:
    admin = site.login("admin@example.com")
    job = site.deck.tasks["send_email"].enqueue(to="a@example.com")
    headers = {"X-CSRF-Token": csrf_of(admin), "Referer": f"{ORIGIN}/jobs?job={job.id}"}
    assert admin.post(f"/jobs/{job.id}/cancel", headers=headers).status_code == 200


def test_sign_in_from_another_site_is_refused(site: Site) -> None:
    client = site.client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post(
        "/login",
        data={"email": "admin@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and "jobdeck_session" not in response.cookies
    assert not audit_of(site, "login")


def test_tokens_need_no_origin_they_carry_no_cookie(site: Site) -> None:
    secret, _ = accounts.create_token(
        site.deck.store, site.clock, AccessPolicy(), Actor("t"), "script", "admin"
    )
    job = site.deck.tasks["send_email"].enqueue(to="a@example.com")
    response = site.client().post(
        f"/api/jobs/{job.id}/cancel",
        headers={"Authorization": f"Bearer {secret}", "Origin": "https://elsewhere.example"},
    )
    assert response.status_code == 200


# -- 3. sign-in -----------------------------------------------------------------------------------


def test_an_oversized_email_or_password_is_refused_before_anything_is_stored(site: Site) -> None:
    before = len(site.deck.store.list_audit(AuditFilter(executions=False), 500))
    for email, password in (("a" * 1_000_000 + "@x.example", "pw"), ("a@x.example", "p" * 5000)):
        response = sign_in(site.client(), email, password)
        assert response.status_code in (400, 413)
        assert "too long" in response.text
        assert len(response.text) < 20_000  # the page does not echo a megabyte back
    assert len(site.deck.store.list_audit(AuditFilter(executions=False), 500)) == before
    assert site.deck.store.get_login_attempts("account:a@x.example") is None


def test_a_disabled_account_costs_one_password_check_like_a_wrong_password(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real_verify = accounts._verify

    def counted(hashed: str, password: str) -> bool:
        checks.append(password)
        return real_verify(hashed, password)

    monkeypatch.setattr(accounts, "_verify", counted)
    accounts.set_active(site.deck.store, site.clock, Actor("t"), "user@example.com", active=False)
    for email, password in (
        ("user@example.com", PASSWORD),  # disabled, right password
        ("admin@example.com", "wrong one"),
        ("ghost@example.com", "wrong one"),
    ):
        checks.clear()
        assert sign_in(site.client(), email, password).status_code == 401
        assert len(checks) == 1, email


def test_a_throttled_sign_in_is_audited(site: Site) -> None:
    client = site.client()
    for _ in range(6):
        sign_in(client, "admin@example.com", "wrong")
    response = sign_in(client, "admin@example.com", PASSWORD)
    assert response.status_code == 429
    throttled = audit_of(site, "login_throttled")
    assert throttled and throttled[0].target == "user admin@example.com"


def test_session_lifetimes_are_settings(db_url: str) -> None:
    clock = ManualClock(datetime.now(UTC))
    deck = JobDeck(db_url, clock=clock, session_idle=60, session_absolute=300)
    try:
        accounts.add_user(
            deck.store, clock, AccessPolicy(), Actor("t"), "a@x.example", PASSWORD, "admin"
        )
        site = Site(deck, clock, deck.asgi())
        client = site.login("a@x.example")
        clock.advance(seconds=59)
        assert client.get("/jobs").status_code == 200
        clock.advance(seconds=61)  # idle more than 60 s
        assert client.get("/jobs").status_code == 303
        client = site.login("a@x.example")
        for _ in range(6):  # active every 59 s, but 300 s after sign-in it ends
            clock.advance(seconds=55)
            status = client.get("/jobs").status_code
        assert status == 303
    finally:
        deck.close()


def test_a_token_stops_working_when_its_maker_is_disabled(site: Site) -> None:
    maker = "partner@example.com"
    secret, _ = accounts.create_token(
        site.deck.store, site.clock, AccessPolicy(), Actor(maker, "partner"), "ci", "partner"
    )
    bearer = {"Authorization": f"Bearer {secret}"}
    assert site.client().get("/api/jobs", headers=bearer).status_code == 200
    accounts.set_active(site.deck.store, site.clock, Actor("t"), maker, active=False)
    assert site.client().get("/api/jobs", headers=bearer).status_code == 401
    accounts.set_active(site.deck.store, site.clock, Actor("t"), maker, active=True)
    assert site.client().get("/api/jobs", headers=bearer).status_code == 200


# -- 3. forwarded headers, only from trusted proxies -------------------------------------------


def scope_from(peer: str, **headers: str) -> dict[str, Any]:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "client": (peer, 1234), "scheme": "http", "headers": raw}


def test_forwarded_headers_are_believed_only_through_trusted_hops() -> None:
    proxies = parse_networks(["10.0.0.0/8", "::1"])
    chain = "6.6.6.6, 203.0.113.7, 10.0.0.5"
    seen = behind_proxies(scope_from("10.0.0.2", x_forwarded_for=chain), proxies)
    assert seen["client"] == ("203.0.113.7", 0)  # the first hop no trusted proxy vouches for
    untrusted = behind_proxies(scope_from("198.51.100.1", x_forwarded_for="1.2.3.4"), proxies)
    assert untrusted["client"] == ("198.51.100.1", 1234)
    proto = behind_proxies(
        scope_from("::1", x_forwarded_for="203.0.113.7", x_forwarded_proto="https"), proxies
    )
    assert proto["scheme"] == "https" and proto["client"] == ("203.0.113.7", 0)
    garbage = behind_proxies(scope_from("10.0.0.2", x_forwarded_for="<script>"), proxies)
    assert garbage["client"] == ("10.0.0.2", 1234)


def test_a_bad_proxy_entry_fails_at_start_with_its_name(db_url: str) -> None:
    deck = JobDeck(db_url, trusted_proxies=("10.0.0.0/8", "proxy.internal"))
    try:
        with pytest.raises(Exception, match=r"trusted_proxies: 'proxy\.internal' is not an IP"):
            deck.asgi()
    finally:
        deck.close()


def login_as_client(app: Any, peer: str, headers: dict[str, str]) -> Any:
    client = TestClient(app, follow_redirects=False, client=(peer, 5000))
    form = client.get("/login", headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    # Over "https" the form's cookie is Secure, which the test client keeps from plain http.
    client.cookies.set("jobdeck_login_csrf", token.group(1))
    return client.post(
        "/login",
        data={"email": "admin@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        headers=headers,
    )


def test_by_default_no_forwarded_header_is_believed(site: Site) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    response = login_as_client(site.app, "127.0.0.1", forged)
    assert response.status_code == 303
    assert "secure" not in response.headers["set-cookie"].lower()
    assert audit_of(site, "login")[0].ip == "127.0.0.1"


def test_behind_a_trusted_proxy_the_client_address_and_https_come_through(db_url: str) -> None:
    clock = ManualClock(datetime.now(UTC))
    deck = JobDeck(db_url, clock=clock, trusted_proxies=("127.0.0.1",))
    try:
        accounts.add_user(
            deck.store, clock, AccessPolicy(), Actor("t"), "admin@example.com", PASSWORD, "admin"
        )
        forwarded = {
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "Origin": "https://testserver",
        }
        response = login_as_client(deck.asgi(), "127.0.0.1", forwarded)
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()
        logins = deck.store.list_audit(AuditFilter(action_type="login", executions=False), 5)
        assert logins[0].ip == "203.0.113.9"
    finally:
        deck.close()
