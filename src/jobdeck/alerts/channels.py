"""Outbound delivery for alerts and demo jobs: email over SMTP, JSON webhooks over HTTP, and
chat and paging services (Slack, Teams, Discord, ...) by URL through apprise.

Both senders raise ``ConfigError`` (a ``ValueError``) for bad input, such as a malformed URL,
recipient or header, before anything is sent, and ``DeliveryError`` when the server cannot be
reached or refuses the message. Callers that retry should retry ``DeliveryError`` only.
"""

from __future__ import annotations

import difflib
import http.client
import json
import logging
import re
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import Literal, TypedDict, get_args

from jobdeck.errors import ConfigError, DeliveryError, SerializationError

Security = Literal["none", "starttls", "ssl"]

_SCHEME_SECURITY: dict[str, Security] = {
    "smtp": "none",
    "smtp+starttls": "starttls",
    "smtps": "ssl",
}
_DEFAULT_PORTS: dict[Security, int] = {"none": 25, "starttls": 587, "ssl": 465}
# The sender builds these itself; letting callers override them would produce a message
# whose headers disagree with its envelope or its MIME structure.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
_BARE_ADDRESS = re.compile(r'[^@\s,;:<>()"\[\]]+@[^@\s,;:<>()"\[\]]+')
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII without the colon (RFC 5322)
_USER_AGENT = "jobdeck"


class _UrlOptions(TypedDict, total=False):
    sender: str
    timeout: float


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand email to an SMTP server; checked when built."""

    host: str = "127.0.0.1"
    port: int = 25
    security: Security = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "jobdeck@localhost"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.host or any(char.isspace() for char in self.host):
            raise ConfigError(f"SMTP host {self.host!r} is not a host name")
        if (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not 0 < self.port < 65536
        ):
            raise ConfigError(f"SMTP port {self.port!r} is not between 1 and 65535")
        choices = get_args(Security)
        if self.security not in choices:
            hint = _did_you_mean(str(self.security), choices)
            raise ConfigError(f"SMTP security {self.security!r} is not one of {choices}{hint}")
        if (self.username is None) != (self.password is None):
            raise ConfigError("SMTP username and password must be given together")
        if not self.timeout > 0:
            raise ConfigError(f"SMTP timeout must be positive, not {self.timeout!r}")
        _bare_address(self.sender, "SMTP sender")

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URLs.

        Example: ``smtp+starttls://user:secret@mail.example.com?sender=ops@example.com``.
        The port defaults to 25, 587 or 465 by scheme; ``sender`` and ``timeout`` may be
        given as query options. Error messages never repeat the password.
        """
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"SMTP URL is malformed: {exc}") from None
        security = _SCHEME_SECURITY.get(parts.scheme)
        if security is None:
            hint = _did_you_mean(parts.scheme, tuple(_SCHEME_SECURITY))
            raise ConfigError(
                f"SMTP URL scheme {parts.scheme!r} is not smtp, smtp+starttls or smtps{hint}"
            )
        if not parts.hostname:
            raise ConfigError("SMTP URL has no host")
        if parts.path not in ("", "/") or parts.fragment:
            raise ConfigError("SMTP URL takes no path or fragment, only ?sender=...&timeout=...")
        return cls(
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[security],
            security=security,
            username=urllib.parse.unquote(parts.username) if parts.username else None,
            password=urllib.parse.unquote(parts.password) if parts.password else None,
            **_smtp_url_options(parts.query),
        )


class EmailSender:
    """Send plain-text (optionally also HTML) email through one SMTP server.

    Example: ``EmailSender(SmtpSettings.from_url(url)).send("ops@example.com", "Failed", text)``.
    Each ``send`` opens its own connection, so one sender is safe to share between threads.
    Pass ``tls_context`` to trust a private CA; the default verifies against the system store.
    """

    def __init__(
        self, settings: SmtpSettings, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self._settings = settings
        self._envelope_sender = _bare_address(settings.sender, "SMTP sender")
        self._tls_context = tls_context
        if tls_context is None and settings.security != "none":
            self._tls_context = ssl.create_default_context()
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        self._where = f"SMTP {host}:{settings.port}"

    def send(
        self,
        to: str | Sequence[str],
        subject: str,
        text: str,
        *,
        html: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Deliver one message and return its Message-ID header (with angle brackets).

        ``to`` is one address (``"ops@example.com"`` or ``"Ops <ops@example.com>"``) or a
        sequence of them. Raises ``ConfigError`` for an empty or malformed recipient, subject
        or header, and ``DeliveryError`` when the server is unreachable or refuses the mail,
        including when it refuses only some recipients.
        """
        recipients = [to] if isinstance(to, str) else list(to)
        if not recipients:
            raise ConfigError("email needs at least one recipient")
        envelope_recipients = [_bare_address(address, "recipient") for address in recipients]
        message = self._build_message(recipients, subject, text, html, headers or {})
        self._deliver(message, envelope_recipients)
        return str(message["Message-ID"])

    def _build_message(
        self,
        recipients: list[str],
        subject: str,
        text: str,
        html: str | None,
        headers: Mapping[str, str],
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = _header_value("Subject", subject)
        message["Date"] = formatdate(localtime=True)
        # Taking the domain from the sender avoids make_msgid's default DNS lookup of our
        # own host name, which can stall for seconds on machines without working DNS.
        domain = self._envelope_sender.rpartition("@")[2]
        message["Message-ID"] = make_msgid(domain=domain)
        for name, value in headers.items():
            if name.lower() in _RESERVED_HEADERS:
                raise ConfigError(
                    f"email header {name!r} is set by jobdeck and cannot be overridden"
                )
            message[_header_name(name)] = _header_value(name, value)
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def _deliver(self, message: EmailMessage, recipients: list[str]) -> None:
        try:
            with self._connect() as client:
                self._secure_and_login(client)
                refused = client.send_message(message, self._envelope_sender, recipients)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{self._where} {self._describe(exc)}") from exc
        if refused:
            raise DeliveryError(
                f"{self._where} refused {', '.join(refused)}; the other recipients were accepted"
            )

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        if settings.security == "ssl":
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=self._tls_context
            )
        return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)

    def _secure_and_login(self, client: smtplib.SMTP) -> None:
        settings = self._settings
        if settings.security == "starttls":
            client.ehlo()
            if not client.has_extn("starttls"):
                raise DeliveryError(f"{self._where} does not offer STARTTLS")
            client.starttls(context=self._tls_context)
        if settings.username is None or settings.password is None:
            return
        client.ehlo_or_helo_if_needed()
        if not client.has_extn("auth"):
            # Most servers advertise AUTH only after TLS is up, so say so rather than
            # leave the user to guess why a correct password is "not supported".
            hint = "; many servers offer it only over TLS" if settings.security == "none" else ""
            raise DeliveryError(f"{self._where} does not offer AUTH{hint}")
        client.login(settings.username, settings.password)

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return f"rejected the login for {self._settings.username!r} ({_smtp_reply(exc)})"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            refused = ", ".join(
                f"{address} ({_smtp_reply(reply)})" for address, reply in exc.recipients.items()
            )
            return f"refused every recipient: {refused}"
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return f"refused the sender {exc.sender!r} ({_smtp_reply(exc)})"
        if isinstance(exc, smtplib.SMTPDataError):
            return f"rejected the message ({_smtp_reply(exc)})"
        if isinstance(exc, smtplib.SMTPResponseException):
            return f"answered {_smtp_reply(exc)}"
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return f"lacks an extension this message needs ({_one_line(str(exc))})"
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            # smtplib reports a read timeout as a disconnect; the timeout is the real cause.
            if isinstance(exc.__context__, TimeoutError):
                return _describe_network_error(exc.__context__, self._settings.timeout)
            return "closed the connection unexpectedly"
        return _describe_network_error(exc, self._settings.timeout)


class WebhookSender:
    """POST JSON payloads to one http(s) URL, such as a chat tool's incoming webhook.

    Example: ``WebhookSender(url, headers={"Authorization": "Bearer ..."}).post({"text": "hi"})``.
    Error messages name only the URL's scheme and host: webhook paths often embed secrets.
    Redirects are not followed, because urllib would silently turn the POST into a GET.
    """

    def __init__(
        self, url: str, *, timeout: float = 5.0, headers: Mapping[str, str] | None = None
    ) -> None:
        self._origin = _webhook_origin(url)
        if not timeout > 0:
            raise ConfigError(f"webhook timeout must be positive, not {timeout!r}")
        self._url = url
        self._timeout = timeout
        self._headers = {"Content-Type": "application/json", "User-Agent": _USER_AGENT}
        for name, value in (headers or {}).items():
            self._headers[_header_name(name)] = _header_value(name, value)
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def post(self, payload: Mapping[str, object]) -> int:
        """Send ``payload`` as a JSON object and return the 2xx HTTP status.

        Raises ``SerializationError`` if the payload is not JSON, ``DeliveryError`` for any
        answer outside 2xx or when the endpoint cannot be reached in time.
        """
        body = _json_body(payload)
        request = urllib.request.Request(self._url, data=body, headers=self._headers, method="POST")
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook {self._origin} {_describe_http_error(exc)}") from exc
        except urllib.error.URLError as exc:
            reason = _describe_network_error(exc.reason, self._timeout)
            raise DeliveryError(f"webhook {self._origin} {reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            # Failures after the request is sent (no answer, garbled answer) are not
            # wrapped in URLError by urllib, so they land here.
            reason = _describe_network_error(exc, self._timeout)
            raise DeliveryError(f"webhook {self._origin} {reason}") from exc


class AppriseSender:
    """Send to one service that apprise knows by its URL: ``slack://``, ``msteams://``,
    ``discord://``, ``mmost://``, ``json://host/path`` and about a hundred more.

    Example: ``AppriseSender("discord://webhook_id/token").send("Title", "What happened")``.
    Needs the ``alerts`` extra. A URL apprise cannot parse is refused when the sender is built;
    messages name only the URL's scheme, since these URLs carry the service's secret.
    """

    def __init__(self, url: str) -> None:
        from jobdeck.extras import require_extra

        require_extra("alerts", "alert_urls (Slack, Teams, Discord and other channels)")
        self.service = url.partition("://")[0] if "://" in url else "?"
        with warnings.catch_warnings():
            # apprise's e-mail plugin imports the deprecated imghdr module while it loads its
            # plugins (once per process): apprise's concern, not something a user can act on.
            warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
            import apprise

            self._apprise = apprise.Apprise()
            added = self._apprise.add(url)
        if not added:
            raise ConfigError(
                f"alert URL {self.service}://... is not one apprise can send to: check the "
                "service's URL form in apprise's list of services"
            )

    def send(self, title: str, body: str, kind: str = "info") -> None:
        """Deliver one message; ``kind`` is info, success, warning or failure (the icon and
        colour on services that show one). Raises DeliveryError when the service refuses."""
        import apprise

        capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
        with capture as output:
            delivered = self._apprise.notify(title=title, body=body, notify_type=kind)
        if not delivered:
            reasons = [line for line in output.getvalue().splitlines() if line.strip()]
            detail = _one_line(reasons[-1])[:200] if reasons else "the service did not accept it"
            raise DeliveryError(f"{self.service}:// alert not delivered: {detail}")


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Make every 3xx answer an HTTPError instead of a silent re-request."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _smtp_url_options(query: str) -> _UrlOptions:
    options: _UrlOptions = {}
    seen: set[str] = set()
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if name in seen:
            raise ConfigError(f"SMTP URL option {name!r} is given twice")
        seen.add(name)
        if name == "sender":
            options["sender"] = value
        elif name == "timeout":
            options["timeout"] = _url_timeout(value)
        else:
            hint = _did_you_mean(name, ("sender", "timeout"))
            raise ConfigError(f"SMTP URL option {name!r} is unknown{hint}")
    return options


def _url_timeout(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"SMTP URL timeout {value!r} is not a number") from None


def _bare_address(value: str, role: str) -> str:
    """Return the address part of ``value``: "Ops <ops@example.com>" gives "ops@example.com"."""
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise ConfigError(f"{role} {value!r} is not an email address")
    if "<" in value:
        # getaddresses quietly drops what it cannot parse, so insist on exactly one result.
        parsed = getaddresses([value])
        address = parsed[0][1] if len(parsed) == 1 else ""
    else:
        address = value.strip()
    if not _BARE_ADDRESS.fullmatch(address):
        raise ConfigError(f"{role} {value!r} is not an email address")
    return address


def _header_name(name: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise ConfigError(f"header name {name!r} is not printable ASCII without ':' or spaces")
    return name


def _header_value(name: str, value: str) -> str:
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise ConfigError(f"header {name!r} must be a single-line string, not {value!r}")
    return value


def _webhook_origin(url: str) -> str:
    """Validate ``url`` and return its ``scheme://host[:port]`` for error messages."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except (ValueError, AttributeError):
        raise ConfigError("webhook URL is malformed") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"webhook URL must start with http:// or https://, not {parts.scheme!r}")
    if not parts.hostname:
        raise ConfigError("webhook URL has no host")
    if "@" in parts.netloc:
        raise ConfigError("webhook URL must not hold credentials; pass them in headers")
    if any(char.isspace() or ord(char) < 32 for char in url):
        raise ConfigError("webhook URL contains spaces or control characters")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _json_body(payload: Mapping[str, object]) -> bytes:
    try:
        # allow_nan=False because NaN and Infinity are not JSON and many receivers reject them.
        text = json.dumps(dict(payload), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"webhook payload cannot be encoded as JSON: {exc}") from None
    return text.encode("utf-8")


def _describe_http_error(exc: urllib.error.HTTPError) -> str:
    status = f"answered {exc.code} {exc.reason}".rstrip()
    if 300 <= exc.code < 400:
        return f"{status}; redirects are not followed"
    try:
        # The first words of the body usually say what was wrong ("invalid_token").
        detail = _one_line(exc.read(300).decode("utf-8", "replace")) if exc.fp else ""
    except OSError:
        detail = ""
    finally:
        if exc.fp is not None:
            exc.close()
    return f"{status}: {detail[:200]}" if detail else status


def _describe_network_error(exc: BaseException | str, timeout: float) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "refused the connection"
    if isinstance(exc, TimeoutError):
        return f"did not answer within {timeout:g}s"
    if isinstance(exc, socket.gaierror):
        return f"cannot be resolved ({exc.strerror})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"has an untrusted TLS certificate ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"failed the TLS handshake ({exc.reason or exc})"
    if isinstance(exc, ConnectionError):
        return f"dropped the connection ({type(exc).__name__})"
    if isinstance(exc, http.client.HTTPException):
        return f"answered with something that is not HTTP ({type(exc).__name__})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot be reached ({exc.strerror})"
    return f"cannot be reached ({_one_line(str(exc)) or type(exc).__name__})"


def _smtp_reply(exc: smtplib.SMTPResponseException | tuple[int, bytes]) -> str:
    code, text = (exc.smtp_code, exc.smtp_error) if not isinstance(exc, tuple) else exc
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {_one_line(message)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
