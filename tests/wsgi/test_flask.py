"""The dashboard inside a real Flask app, signed in by Flask's session: through Flask's test
client and through a real WSGI server on 127.0.0.1."""

from __future__ import annotations

import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

flask = pytest.importorskip("flask", reason="the Flask example needs jobdeck's dev extra")

from jobdeck import JobDeck  # noqa: E402
from jobdeck.contrib.wsgi import PathDispatcher, flask_session, mount  # noqa: E402
from jobdeck.web.access import Principal  # noqa: E402


def make_app(db_url: str) -> tuple[Any, JobDeck]:
    """The README's example: a Flask app whose own login decides who sees the dashboard."""
    deck = JobDeck(db_url)

    @deck.task(name="send_email")
    def send_email(to: str) -> None: ...

    app = flask.Flask("shop")
    app.secret_key = "test-only-secret"

    @app.get("/login/<name>")
    def login(name: str) -> str:
        flask.session["user"] = name
        return f"signed in as {name}"

    @app.get("/")
    def home() -> str:
        return f"home of {flask.session.get('user', 'anonymous')}"

    def authorize(request: Any) -> Principal | None:
        session = flask_session(app, request)
        user = session.get("user") if session else None
        if user is None:
            return None
        return Principal.with_role(
            user, f"{user}@example.com", "admin" if user == "ann" else "user"
        )

    mount(app, "/admin/jobs", deck, authorize=authorize)
    return app, deck


@pytest.fixture
def app(db_url: str) -> Iterator[Any]:
    flask_app, deck = make_app(db_url)
    deck.tasks["send_email"].enqueue(to="a@example.com")
    yield flask_app
    deck.close()


def test_flask_sign_in_opens_the_dashboard(app: Any) -> None:
    client = app.test_client()
    assert client.get("/admin/jobs/api/jobs").status_code == 401
    client.get("/login/ann")
    jobs = client.get("/admin/jobs/api/jobs").get_json()
    assert [job["task"] for job in jobs["jobs"]] == ["send_email"]
    page = client.get("/admin/jobs/jobs")
    assert page.status_code == 200
    assert '<base href="/admin/jobs/">' in page.get_data(as_text=True)
    # Read to the end, as WSGI servers do: a2wsgi's coroutine ends with the body.
    assert client.get("/admin/jobs/static/app.css").get_data().strip()
    assert client.get("/").get_data(as_text=True) == "home of ann"  # Flask's own routes
    bare = client.get("/admin/jobs")
    assert bare.status_code == 307 and bare.headers["Location"].endswith("/admin/jobs/")
    bare.get_data()

    other = app.test_client()
    other.get("/login/bob")  # signed in, but no dashboard role
    assert other.get("/admin/jobs/api/jobs").status_code == 403


def test_a_forged_flask_cookie_is_no_session(app: Any) -> None:
    client = app.test_client()
    client.set_cookie("session", "eyJ1c2VyIjoiYW5uIn0.forged.signature")
    assert client.get("/admin/jobs/api/jobs").status_code == 401


def test_a_real_wsgi_server_serves_flask_and_the_dashboard(app: Any) -> None:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with urllib.request.urlopen(f"{base}/login/ann") as signed_in:
            cookie = signed_in.headers["Set-Cookie"].split(";", 1)[0]
        request = urllib.request.Request(f"{base}/admin/jobs/jobs", headers={"Cookie": cookie})
        with urllib.request.urlopen(request) as page:
            assert page.status == 200
            assert page.headers["X-Frame-Options"] == "DENY"  # the dashboard's own headers
            assert b'<base href="/admin/jobs/">' in page.read()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/admin/jobs/api/jobs")
        assert refused.value.code == 401
        refused.value.close()
    finally:
        server.shutdown()
        server.server_close()


def test_other_wsgi_hosts_get_a_wrapped_callable(db_url: str) -> None:
    deck = JobDeck(db_url)

    def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    wrapped = mount(host, "/jobs/", deck)
    assert isinstance(wrapped, PathDispatcher) and wrapped.prefix == "/jobs"
    environ = {"PATH_INFO": "/jobsx", "SCRIPT_NAME": ""}
    assert wrapped(environ, lambda *a: None) == [b"/jobsx"]
    deck.close()


def test_without_a2wsgi_the_error_names_the_extra(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdeck import MissingExtra

    monkeypatch.setitem(sys.modules, "a2wsgi", None)  # as if not installed
    with pytest.raises(MissingExtra, match=r"pip install 'jobdeck\[wsgi\]'"):
        mount(flask.Flask("x"), "/jobs", JobDeck(db_url))
