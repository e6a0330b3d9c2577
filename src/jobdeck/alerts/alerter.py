"""Alert events (a schedule gone stale, a job out of retries, a rule firing, a recovery): stored,
logged, and sent to webhooks, email and the apprise channels of ``alert_urls``."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from jobdeck.clock import Clock
from jobdeck.errors import JobDeckError
from jobdeck.settings import Settings
from jobdeck.store.base import Store

log = logging.getLogger("jobdeck.alerts")

STALE = "stale"
RECOVERED = "recovered"
EXHAUSTED = "exhausted"
# The alert rules' kinds (rules.py); each is answered by a RECOVERED with the same rule.
FLEET_LOW = "fleet_low"
QUEUE_WAIT = "queue_wait"
FAILURE_RATE = "failure_rate"
NEW_ERROR_GROUP = "new_error_group"


@dataclass(frozen=True)
class AlertEvent:
    kind: str  # stale, recovered, exhausted, fleet_low, queue_wait, failure_rate, new_error_group
    subject: str  # schedule name or "job <id>"
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class Alerter:
    """Records each event once in the store, logs it, and delivers it to the configured sinks.

    Delivery runs on a background thread so a slow mail server never stalls a worker; the
    store row records whether each delivery worked. One thread sends them all, in the order
    they were emitted, so a "recovered" never reaches an inbox before the "stale" it answers.
    """

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.webhooks = settings.alert_webhooks
        self.emails = settings.alert_emails
        self.smtp_url = settings.smtp_url
        # Built now, so a missing extra or a URL apprise cannot read fails at start, in one line.
        self.channels = _channels(settings.alert_urls)
        self._backlog: deque[tuple[int, dict[str, Any]]] = deque()
        self._lock = threading.Lock()
        self._sender: threading.Thread | None = None

    def emit(self, event: AlertEvent) -> int:
        payload = {
            "kind": event.kind,
            "subject": event.subject,
            "message": event.message,
            # Round-trip through JSON so datetimes in details reach every sink as ISO text.
            "details": json.loads(json.dumps(event.details, default=str)),
        }
        alert_id = self.store.record_alert(
            event.kind,
            event.subject,
            event.message,
            json.dumps(event.details, default=str),
            self.clock.now(),
        )
        log.warning("alert %s: %s", event.kind, event.message)
        if self.webhooks or self.channels or (self.emails and self.smtp_url):
            self._queue_delivery(alert_id, payload)
        return alert_id

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for deliveries in flight (used at shutdown and by tests)."""
        deadline = time.monotonic() + timeout
        while (thread := self._sender) is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            thread.join(remaining)

    def _queue_delivery(self, alert_id: int, payload: dict[str, Any]) -> None:
        with self._lock:
            self._backlog.append((alert_id, payload))
            if self._sender is None:
                self._sender = threading.Thread(
                    target=self._send_backlog, name="jobdeck-alert", daemon=True
                )
                self._sender.start()

    def _send_backlog(self) -> None:
        # The thread ends when the backlog is empty, so an idle Alerter holds no thread.
        while True:
            with self._lock:
                if not self._backlog:
                    self._sender = None
                    return
                alert_id, payload = self._backlog.popleft()
            try:
                self._deliver(alert_id, payload)
            except Exception:  # the thread must live on to send the alerts queued behind
                log.exception("alert %d: delivery failed", alert_id)

    def _deliver(self, alert_id: int, payload: dict[str, Any]) -> None:
        errors = []
        for send in self._senders():
            try:
                send(payload)
            except Exception as exc:  # one broken sink must not stop the others
                errors.append(str(exc))
                log.warning("alert %d not delivered: %s", alert_id, exc)
        try:
            self.store.mark_alert_delivered(alert_id, self.clock.now(), "; ".join(errors) or None)
        except JobDeckError as exc:
            log.warning("could not record delivery of alert %d: %s", alert_id, exc)

    def _senders(self) -> list[Any]:
        from jobdeck.alerts.channels import EmailSender, SmtpSettings, WebhookSender

        senders: list[Any] = [WebhookSender(url).post for url in self.webhooks]
        if self.emails and self.smtp_url:
            mailer = EmailSender(SmtpSettings.from_url(self.smtp_url))

            def send_email(payload: dict[str, Any]) -> None:
                subject = f"[jobdeck] {payload['kind']}: {payload['subject']}"
                body = f"{payload['message']}\n\n{json.dumps(payload['details'], indent=2)}\n"
                mailer.send(list(self.emails), subject, body)

            senders.append(send_email)
        for channel in self.channels:
            senders.append(_chat_sender(channel))
        return senders


def _channels(urls: tuple[str, ...]) -> list[Any]:
    if not urls:
        return []
    from jobdeck.alerts.channels import AppriseSender

    return [AppriseSender(url) for url in urls]


# What each kind looks like on services that show an icon or colour.
_CHAT_TYPES = {
    RECOVERED: "success",
    STALE: "failure",
    EXHAUSTED: "failure",
    FLEET_LOW: "failure",
    QUEUE_WAIT: "warning",
    FAILURE_RATE: "failure",
    NEW_ERROR_GROUP: "failure",
}


def _chat_sender(channel: Any) -> Any:
    def send(payload: dict[str, Any]) -> None:
        details = "\n".join(
            f"{name}: {value}" for name, value in payload["details"].items() if value is not None
        )
        channel.send(
            f"[jobdeck] {payload['kind']}: {payload['subject']}",
            f"{payload['message']}\n\n{details}".strip(),
            _CHAT_TYPES.get(payload["kind"], "warning"),
        )

    return send
