"""Outbound webhooks: other systems (the city's LGSP, an agency's own tracker) hear of ticket changes.

Each ticket change queues, in its own transaction, one outbox message per matching subscription
(channel ``webhook``): the JSON body carries no personal data, and the subject holds the
``sha256=<hex>`` HMAC of the body under the subscription's secret, computed when queued. The outbox
dispatcher POSTs it (:class:`WebhookSender`), retries with back-off and dead-letters like any message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from ticketing.notifications.adapters import DeliveryError, OutgoingMessage
from ticketing.notifications.outbox import NewMessage
from ticketing.ports import UnitOfWork

SIGNATURE_HEADER = "X-Hotline-Signature"
CHANNEL = "webhook"


@dataclass(frozen=True)
class Webhook:
    id: int
    name: str
    url: str
    secret: str
    agency: str = ""  # "" = every ticket; else only tickets this agency leads or coordinates
    active: bool = True


class WebhookStore(Protocol):
    def webhooks(self, *, active_only: bool = True) -> list[Webhook]: ...


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature)


def event_body(action: str, ticket: Any, at: datetime) -> dict[str, Any]:
    """The event a subscriber receives: the ticket's public state, never the caller's identity."""
    return {
        "event": f"ticket.{action}",
        "at": at.isoformat(),
        "ticket": {
            "code": ticket.code,
            "status": ticket.status.value,
            "category": ticket.category,
            "ward_code": ticket.place.ward_code,
            "lead_agency": ticket.lead_agency,
            "coordinators": [c.agency for c in ticket.coordinators],
            "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
            "overdue": ticket.overdue,
        },
    }


class WebhookNotifier:
    """A :data:`ticketing.service.ChangeHook` queueing one signed message per matching subscription."""

    def __init__(
        self,
        hooks: Callable[[UnitOfWork], list[Webhook]],
        write: Callable[[UnitOfWork, NewMessage, datetime], None],
    ) -> None:
        self.hooks = hooks  # the active subscriptions, read in the change's own transaction
        self.write = write

    def __call__(self, uow: UnitOfWork, action: str, ticket: Any) -> None:
        subs = self.hooks(uow)
        if not subs:
            return
        at = ticket.history[-1].at if ticket.history else ticket.created_at
        seq = len(ticket.history)
        agencies = {ticket.lead_agency, *(c.agency for c in ticket.coordinators)}
        body = json.dumps(event_body(action, ticket, at), ensure_ascii=False, sort_keys=True)
        for hook in subs:
            if hook.agency and hook.agency not in agencies:
                continue
            message = NewMessage(
                kind="webhook",
                channel=CHANNEL,
                recipient=hook.url,
                subject=sign(hook.secret, body.encode("utf-8")),
                body=body,
                dedupe_key=f"webhook:{hook.id}:{ticket.code}:{seq}:{action}",
                ticket_code=ticket.code,
            )
            self.write(uow, message, at)


class WebhookSender:
    """POSTs a queued webhook with its signature; any answer but 2xx is a failure to retry."""

    def __init__(self, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, message: OutgoingMessage) -> None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: message.subject,
            "X-Hotline-Delivery": message.message_id,
        }
        try:
            answer = self.client.post(
                message.recipient, content=message.body.encode("utf-8"), headers=headers
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {message.recipient}: {exc.__class__.__name__}: {exc}") from exc
        if not answer.is_success:
            raise DeliveryError(f"webhook {message.recipient} answered HTTP {answer.status_code}")
