"""The demo's own SMTP server on 127.0.0.1: every email the jobs send is a real SMTP message,
kept in the ``demo_mail`` table so the "Sent mail" page and ``jobdeck demo mail`` show it.
Recipients at ``invalid.example`` are refused (550), the way a real server refuses them."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from jobdeck.demo.db import DemoDB

REFUSED_DOMAIN = "invalid.example"


class _Handler:
    def __init__(self, db: DemoDB, clock: Any) -> None:
        self.db = db
        self.clock = clock

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower().endswith("@" + REFUSED_DOMAIN):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        message = message_from_bytes(
            raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default
        )
        body = message.get_body(("plain", "html"))
        self.db.execute(
            "INSERT INTO demo_mail (received_at, sender, recipients, subject, body) "
            "VALUES (:at, :sender, :rcpt, :subject, :body)",
            {
                "at": self.clock.now(),
                "sender": envelope.mail_from or "",
                "rcpt": ", ".join(envelope.rcpt_tos),
                "subject": str(message["Subject"] or ""),
                "body": body.get_content() if body is not None else "",
            },
        )
        return "250 Message accepted"


class DemoMailServer:
    """Start, stop and where it listens; the port is free when chosen."""

    def __init__(self, db: DemoDB, clock: Any) -> None:
        self.port = _free_port()
        self._controller = Controller(_Handler(db, clock), hostname="127.0.0.1", port=self.port)

    def start(self) -> DemoMailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def recent_mail(db: DemoDB, limit: int = 50) -> list[dict[str, Any]]:
    return db.rows(
        "SELECT id, received_at, sender, recipients, subject, body FROM demo_mail "
        "ORDER BY id DESC LIMIT :limit",
        {"limit": limit},
    )
