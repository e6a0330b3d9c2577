"""Tests for the SMTP and webhook senders, against real servers on 127.0.0.1."""

from __future__ import annotations

import json
import math
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from jobdeck.alerts.channels import EmailSender, SmtpSettings, WebhookSender
from jobdeck.errors import ConfigError, DeliveryError, SerializationError
from tests.smtp_server import LocalSmtpServer

# --- servers and ports ---------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as server:
        yield server


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port nobody listens on: bound but not listening, so connections are refused
    and no other process can take the port during the test."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) but never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@dataclass
class TlsFiles:
    server_context: ssl.SSLContext
    client_context: ssl.SSLContext


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder: Path = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    return TlsFiles(server_context, ssl.create_default_context(cafile=str(cert)))


def sender_for(
    port: int, tls_context: ssl.SSLContext | None = None, **settings: Any
) -> EmailSender:
    return EmailSender(SmtpSettings(port=port, **settings), tls_context=tls_context)


# --- sending email -----------------------------------------------------------------------


def test_plain_email_arrives_with_subject_body_recipient_and_message_id(
    smtp_server: LocalSmtpServer,
) -> None:
    sender = sender_for(smtp_server.port, sender="Jobdeck <jobdeck@example.org>")

    message_id = sender.send(
        "ops@example.com",
        "Job 42 failed — retrying",
        "Traceback here\n",
        headers={"X-Jobdeck-Job": "42"},
    )

    [received] = smtp_server.messages
    assert received.envelope_sender == "jobdeck@example.org"
    assert received.envelope_recipients == ("ops@example.com",)
    assert received["From"] == "Jobdeck <jobdeck@example.org>"
    assert received["To"] == "ops@example.com"
    assert received["Subject"] == "Job 42 failed — retrying"
    assert received["Message-ID"] == message_id
    assert message_id.startswith("<") and message_id.endswith("@example.org>")
    assert received["Date"] is not None
    assert received["X-Jobdeck-Job"] == "42"
    assert received.get_content_type() == "text/plain"
    assert received.get_content() == "Traceback here\n"


def test_html_email_carries_text_and_html_alternatives(smtp_server: LocalSmtpServer) -> None:
    sender = sender_for(smtp_server.port)

    message_id = sender.send(
        ["Ops <ops@example.com>", "dev@example.com"],
        "Daily report",
        "3 jobs failed",
        html="<p><b>3</b> jobs failed</p>",
    )

    [received] = smtp_server.messages
    assert received["Message-ID"] == message_id
    assert received.envelope_recipients == ("ops@example.com", "dev@example.com")
    assert received["To"] == "Ops <ops@example.com>, dev@example.com"
    assert received.get_content_type() == "multipart/alternative"
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "3 jobs failed"
    assert html is not None and html.get_content().strip() == "<p><b>3</b> jobs failed</p>"


def test_each_send_has_its_own_message_id(smtp_server: LocalSmtpServer) -> None:
    sender = sender_for(smtp_server.port)

    first = sender.send("ops@example.com", "one", "1")
    second = sender.send("ops@example.com", "two", "2")

    assert first != second
    assert [m["Message-ID"] for m in smtp_server.wait_for(2)] == [first, second]


def test_login_with_username_and_password() -> None:
    with LocalSmtpServer(credentials={"alerts": "s3cret"}) as server:
        sender = sender_for(server.port, username="alerts", password="s3cret")

        sender.send("ops@example.com", "hello", "body")

        assert len(server.messages) == 1


def test_wrong_password_is_a_delivery_error() -> None:
    with LocalSmtpServer(credentials={"alerts": "s3cret"}) as server:
        sender = sender_for(server.port, username="alerts", password="guess")

        with pytest.raises(DeliveryError, match=r"rejected the login for 'alerts' \(535 ") as info:
            sender.send("ops@example.com", "hello", "body")

        assert "guess" not in str(info.value)
        assert server.messages == []


def test_server_requiring_login_refuses_anonymous_mail() -> None:
    refused = r"refused the sender 'jobdeck@localhost' \(530 5\.7\.0 Authentication required\)"
    with LocalSmtpServer(credentials={"alerts": "s3cret"}) as server:
        sender = sender_for(server.port)

        with pytest.raises(DeliveryError, match=refused):
            sender.send("ops@example.com", "hello", "body")


def test_login_against_server_without_auth_says_so(smtp_server: LocalSmtpServer) -> None:
    sender = sender_for(smtp_server.port, username="alerts", password="s3cret")

    with pytest.raises(DeliveryError, match="does not offer AUTH; many servers offer it only"):
        sender.send("ops@example.com", "hello", "body")


class RefusingSmtpServer(LocalSmtpServer):
    """Refuses every recipient whose address starts with "nobody"."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_some_recipients_refused_is_a_delivery_error_naming_them() -> None:
    with RefusingSmtpServer() as server:
        sender = sender_for(server.port)

        with pytest.raises(DeliveryError, match=r"refused nobody@example\.com; the other"):
            sender.send(["ops@example.com", "nobody@example.com"], "hello", "body")

        assert server.messages[0].envelope_recipients == ("ops@example.com",)


def test_all_recipients_refused_is_a_delivery_error() -> None:
    with RefusingSmtpServer() as server, pytest.raises(DeliveryError) as info:
        sender_for(server.port).send("nobody@example.com", "hello", "body")

    assert str(info.value) == (
        f"SMTP 127.0.0.1:{server.port} refused every recipient: "
        "nobody@example.com (550 5.1.1 no such user)"
    )


def test_connection_refused_is_a_one_line_delivery_error(closed_port: int) -> None:
    with pytest.raises(DeliveryError) as info:
        sender_for(closed_port).send("ops@example.com", "hello", "body")

    assert str(info.value) == f"SMTP 127.0.0.1:{closed_port} refused the connection"
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


def test_silent_server_is_a_timeout(silent_port: int) -> None:
    sender = sender_for(silent_port, timeout=0.2)

    with pytest.raises(DeliveryError) as info:
        sender.send("ops@example.com", "hello", "body")

    assert str(info.value) == f"SMTP 127.0.0.1:{silent_port} did not answer within 0.2s"


# --- TLS -------------------------------------------------------------------------------


def test_starttls_then_login(tls: TlsFiles) -> None:
    server = LocalSmtpServer(credentials={"alerts": "s3cret"}, starttls_context=tls.server_context)
    with server:
        sender = sender_for(
            server.port,
            security="starttls",
            username="alerts",
            password="s3cret",
            tls_context=tls.client_context,
        )

        sender.send("ops@example.com", "over tls", "body")

        assert server.messages[0]["Subject"] == "over tls"


def test_starttls_required_but_not_offered(smtp_server: LocalSmtpServer) -> None:
    sender = sender_for(smtp_server.port, security="starttls")

    with pytest.raises(DeliveryError, match=r"127\.0\.0\.1:\d+ does not offer STARTTLS$"):
        sender.send("ops@example.com", "hello", "body")


def test_implicit_tls(tls: TlsFiles) -> None:
    with LocalSmtpServer(ssl_context=tls.server_context) as server:
        sender = sender_for(server.port, security="ssl", tls_context=tls.client_context)

        sender.send("ops@example.com", "smtps", "body")

        assert server.messages[0]["Subject"] == "smtps"


def test_untrusted_certificate_is_a_delivery_error(tls: TlsFiles) -> None:
    with LocalSmtpServer(ssl_context=tls.server_context) as server:
        sender = sender_for(server.port, security="ssl")  # system CAs only

        with pytest.raises(DeliveryError, match="has an untrusted TLS certificate"):
            sender.send("ops@example.com", "smtps", "body")

        assert server.messages == []


# --- refusing bad input before connecting ------------------------------------------------
# These use a closed port: reaching the network would raise DeliveryError instead.


@pytest.mark.parametrize(
    "to",
    [
        [],
        "",
        "not an address",
        "a@example.com, b@example.com",
        "ops@",
        "@example.com",
        "ops@example.com\r\nBcc: victim@example.com",
        ["ops@example.com", "two words@x.org"],
    ],
)
def test_bad_recipients_are_config_errors(closed_port: int, to: str | list[str]) -> None:
    with pytest.raises(ConfigError, match="recipient"):
        sender_for(closed_port).send(to, "hello", "body")


@pytest.mark.parametrize(
    ("subject", "headers", "problem"),
    [
        ("two\nlines", {}, "single-line"),
        ("ok", {"Subject": "other"}, "cannot be overridden"),
        ("ok", {"message-id": "<x@y>"}, "cannot be overridden"),
        ("ok", {"X-Tag": "a\r\nBcc: victim@example.com"}, "single-line"),
        ("ok", {"X Tag": "a"}, "header name"),
    ],
)
def test_bad_subject_or_headers_are_config_errors(
    closed_port: int, subject: str, headers: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        sender_for(closed_port).send("ops@example.com", subject, "body", headers=headers)


# --- SMTP settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpSettings(host="mail.example.com")),
        ("smtp://127.0.0.1:2525/", SmtpSettings(port=2525)),
        ("smtps://mail.example.com", SmtpSettings("mail.example.com", 465, "ssl")),
        (
            "smtp+starttls://al%40erts:p%2Fw@Mail.Example.com?sender=ops@example.com&timeout=2.5",
            SmtpSettings(
                "mail.example.com", 587, "starttls", "al@erts", "p/w", "ops@example.com", 2.5
            ),
        ),
        ("smtp://[::1]:2525", SmtpSettings(host="::1", port=2525)),
    ],
)
def test_settings_from_url(url: str, expected: SmtpSettings) -> None:
    assert SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example.com", "scheme 'http' is not smtp"),
        ("smtp-starttls://mail.example.com", "did you mean 'smtp\\+starttls'"),
        ("smtp://", "has no host"),
        ("smtp://user:hunter2@mail.example.com:99999", "malformed"),
        ("smtp://user:hunter2@mail.example.com:abc", "malformed"),
        ("smtp://mail.example.com/inbox", "no path"),
        ("smtp://mail.example.com?sendr=a@b.c", "did you mean 'sender'"),
        ("smtp://mail.example.com?timeout=soon", "not a number"),
        ("smtp://mail.example.com?timeout=0", "timeout must be positive"),
        ("smtp://mail.example.com?timeout=1&timeout=2", "given twice"),
        ("smtp://mail.example.com?sender=nobody", "not an email address"),
        ("smtp://alerts@mail.example.com", "username and password must be given together"),
    ],
)
def test_bad_settings_urls_are_config_errors(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as info:
        SmtpSettings.from_url(url)

    assert "hunter2" not in str(info.value)


def test_settings_check_fields_when_built() -> None:
    with pytest.raises(ConfigError, match="did you mean 'starttls'"):
        SmtpSettings(security="starttl")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="port 0 is not between"):
        SmtpSettings(port=0)
    with pytest.raises(ConfigError, match="SMTP sender 'jobdeck' is not an email address"):
        SmtpSettings(sender="jobdeck")


def test_settings_repr_hides_the_password() -> None:
    assert "hunter2" not in repr(SmtpSettings(username="alerts", password="hunter2"))


# --- webhooks --------------------------------------------------------------------------


@dataclass
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: bytes


class RecordingServer(ThreadingHTTPServer):
    """Answers POST /status/<code> with that code (200 otherwise) and keeps each request."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.received: list[ReceivedPost] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class RecordingHandler(BaseHTTPRequestHandler):
    server: RecordingServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(ReceivedPost(self.path, dict(self.headers), body))
        status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.end_headers()
        self.wfile.write(b"boom\nsecond line" if status >= 400 else b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


@pytest.fixture
def web_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    # A short poll interval keeps shutdown() quick; it waits for serve_forever to notice.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_posts_json_with_headers(web_server: RecordingServer) -> None:
    sender = WebhookSender(
        web_server.url("/hooks/T0/secret"), headers={"Authorization": "Bearer t"}
    )
    payload = {"text": "job 42 failed — ünïcode", "attempt": 3, "tags": ["a", "b"], "ok": None}

    status = sender.post(payload)

    assert status == 200
    [received] = web_server.received
    assert received.path == "/hooks/T0/secret"
    assert json.loads(received.body) == payload
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "jobdeck"
    assert received.headers["Authorization"] == "Bearer t"


def test_webhook_returns_any_2xx_status(web_server: RecordingServer) -> None:
    assert WebhookSender(web_server.url("/status/202")).post({}) == 202


def test_webhook_error_answer_is_a_one_line_delivery_error(web_server: RecordingServer) -> None:
    sender = WebhookSender(web_server.url("/status/500"))

    with pytest.raises(DeliveryError) as info:
        sender.post({"text": "hi"})

    port = web_server.server_address[1]
    assert str(info.value) == (
        f"webhook http://127.0.0.1:{port} answered 500 Internal Server Error: boom second line"
    )


def test_webhook_redirect_is_not_followed(web_server: RecordingServer) -> None:
    with pytest.raises(DeliveryError, match="answered 302 Found; redirects are not followed"):
        WebhookSender(web_server.url("/status/302")).post({"text": "hi"})

    assert [post.path for post in web_server.received] == ["/status/302"]


def test_webhook_unreachable_port_is_a_delivery_error(closed_port: int) -> None:
    with pytest.raises(DeliveryError) as info:
        WebhookSender(f"http://127.0.0.1:{closed_port}/hook").post({"text": "hi"})

    assert str(info.value) == f"webhook http://127.0.0.1:{closed_port} refused the connection"


def test_webhook_silent_endpoint_is_a_timeout(silent_port: int) -> None:
    sender = WebhookSender(f"http://127.0.0.1:{silent_port}/hook", timeout=0.2)

    with pytest.raises(DeliveryError, match=r"did not answer within 0\.2s$"):
        sender.post({"text": "hi"})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/hook", "must start with http:// or https://, not 'ftp'"),
        ("example.com/hook", "must start with http://"),
        ("https://", "has no host"),
        ("https://user:pw@example.com/hook", "must not hold credentials"),
        ("https://example.com:99999/hook", "malformed"),
        ("https://example.com/a hook", "spaces or control characters"),
    ],
)
def test_bad_webhook_urls_are_config_errors(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        WebhookSender(url)


def test_bad_webhook_header_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="single-line"):
        WebhookSender("https://example.com/hook", headers={"X-Token": "a\nb"})


@pytest.mark.parametrize("payload", [{"when": object()}, {"ratio": math.nan}])
def test_payload_that_is_not_json_is_a_serialization_error(
    closed_port: int, payload: dict[str, object]
) -> None:
    sender = WebhookSender(f"http://127.0.0.1:{closed_port}/hook")

    with pytest.raises(SerializationError, match="cannot be encoded as JSON"):
        sender.post(payload)
