"""Delivery adapters: an HTTP SMS gateway, SMTP e-mail, and a JSON-lines file for development.

Each adapter's ``send`` either returns (delivered) or raises :class:`DeliveryError` with a one-line
reason; the outbox records the reason and retries later.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import httpx
from jinja2 import Environment, StrictUndefined, UndefinedError

from config.private_files import open_private_text, private_dir


class DeliveryError(RuntimeError):
    """The message was not delivered; retry later."""


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # "sms" | "email"
    recipient: str  # phone number or e-mail address
    subject: str
    body: str
    message_id: str  # idempotency key passed to the gateway where it supports one


class Sender(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


class FileSender:
    """Appends each message as one JSON line to a file (development and tests)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: OutgoingMessage) -> None:
        private_dir(self.path.parent)
        record = {"at": datetime.now(UTC).isoformat(timespec="seconds"), **message.__dict__}
        with open_private_text(self.path, "a") as f:  # recipients' phones and addresses
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


class HttpSmsSender:
    """POSTs to an SMS gateway. ``body_template`` is a Jinja2 template of the JSON body, given
    ``phone``, ``text`` and ``message_id`` (each JSON-encoded), so any gateway's schema fits."""

    DEFAULT_BODY = '{"to": {{ phone }}, "text": {{ text }}, "id": {{ message_id }}}'

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        body_template: str = DEFAULT_BODY,
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.template = Environment(undefined=StrictUndefined, autoescape=False).from_string(body_template)
        self.client = client or httpx.Client(timeout=timeout_s)

    def send(self, message: OutgoingMessage) -> None:
        try:
            body = self.template.render(
                phone=json.dumps(message.recipient),
                text=json.dumps(message.body, ensure_ascii=False),
                message_id=json.dumps(message.message_id),
            )
        except UndefinedError as exc:
            raise DeliveryError(f"SMS body template: {exc.message}") from exc
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            resp = self.client.post(self.url, content=body.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS gateway unreachable: {exc.__class__.__name__}: {exc}") from exc
        if resp.status_code >= 300:
            raise DeliveryError(f"SMS gateway answered HTTP {resp.status_code}: {resp.text[:200]}")


class SmtpSender:
    """Sends e-mail over SMTP (STARTTLS when ``starttls``; login when a user is set)."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        sender: str,
        user: str = "",
        password: str = "",
        starttls: bool = True,
        timeout_s: float = 15.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout_s = user, password, starttls, timeout_s

    def send(self, message: OutgoingMessage) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<{message.message_id}@hotline>"
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc.__class__.__name__}: {exc}") from exc
