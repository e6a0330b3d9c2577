"""A real SMTP server on 127.0.0.1 that keeps every message it receives, for tests and the demo."""

from __future__ import annotations

import errno
import socket
import ssl
import threading
from collections.abc import Mapping
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

_HOST = "127.0.0.1"


class ReceivedMessage(EmailMessage):
    """An EmailMessage plus the SMTP envelope (MAIL FROM, RCPT TO) it arrived with."""

    envelope_sender: str = ""
    envelope_recipients: tuple[str, ...] = ()


class LocalSmtpServer:
    """Run aiosmtpd in a background thread on 127.0.0.1 and a free port.

    Example::

        with LocalSmtpServer() as server:
            send_mail_to("127.0.0.1", server.port)
            assert server.messages[0]["Subject"] == "hello"

    ``credentials`` ({"user": "password"}) makes AUTH PLAIN/LOGIN mandatory, offered
    without TLS because this is a test server. Line endings of received messages are
    turned from the wire's CRLF into "\\n", as a mailbox on disk would store them.
    ``starttls_context`` offers STARTTLS with that server certificate; ``ssl_context``
    makes the whole connection TLS (SMTPS).
    """

    def __init__(
        self,
        *,
        credentials: Mapping[str, str] | None = None,
        starttls_context: ssl.SSLContext | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.messages: list[ReceivedMessage] = []
        self.port = 0
        self._credentials = dict(credentials or {})
        self._starttls_context = starttls_context
        self._ssl_context = ssl_context
        self._controller: Controller | None = None
        self._arrived = threading.Condition()

    def start(self) -> LocalSmtpServer:
        """Start listening; returns self so ``server = LocalSmtpServer().start()`` works."""
        if self._controller is not None:
            raise RuntimeError("LocalSmtpServer is already running")
        # aiosmtpd's Controller needs the port up front (it connects to it to check the
        # server is up), so pick a free one and retry in the rare case someone takes it
        # between our probe and aiosmtpd's bind.
        for attempt in (1, 2, 3):
            controller = self._make_controller(_free_port())
            try:
                controller.start()
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                controller.loop.close()  # the bind failed, so aiosmtpd's thread left it open
                if attempt == 3:
                    raise
        self._controller = controller
        self.port = controller.port
        return self

    def stop(self) -> None:
        """Stop the server and its thread; safe to call twice."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages arrived; TimeoutError after ``timeout``."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"{len(self.messages)} of {count} messages arrived")
            return list(self.messages)

    def __enter__(self) -> LocalSmtpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """aiosmtpd hook: demand a login first when the server has credentials."""
        # aiosmtpd's own auth_required does this too, but with TLS off it emits a
        # UserWarning, which the test suite's filterwarnings=error turns into a failure.
        if self._credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd hook: keep the message, then accept it."""
        parser = BytesParser(_class=ReceivedMessage, policy=policy.default)
        message = parser.parsebytes((envelope.original_content or b"").replace(b"\r\n", b"\n"))
        assert isinstance(message, ReceivedMessage)
        message.envelope_sender = envelope.mail_from or ""
        message.envelope_recipients = tuple(envelope.rcpt_tos)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def _make_controller(self, port: int) -> Controller:
        options: dict[str, Any] = {}
        if self._credentials:
            options.update(authenticator=self._check_login, auth_require_tls=False)
        if self._starttls_context is not None:
            options["tls_context"] = self._starttls_context
        return Controller(self, hostname=_HOST, port=port, ssl_context=self._ssl_context, **options)

    def _check_login(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode()
            if user in self._credentials and self._credentials[user] == auth_data.password.decode():
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((_HOST, 0))
        port: int = probe.getsockname()[1]
        return port
