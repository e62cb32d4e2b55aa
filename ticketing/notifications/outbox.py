"""The notification outbox: messages are queued in the database (in the same transaction as the change
that causes them) and delivered by a dispatcher that claims due messages, sends them, and records the
outcome with retries and back-off. Nothing is lost: a failed message stays pending, then dead, and is
listed and retryable from the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ticketing.notifications.adapters import DeliveryError, OutgoingMessage, Sender
from ticketing.notifications.policy import OutboxStatus, RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewMessage:
    kind: str
    channel: str  # "sms" | "email"
    recipient: str
    subject: str
    body: str
    dedupe_key: str  # one message per key, ever: e.g. "tracking_code:123456789:sms"
    ticket_code: str = ""


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    kind: str
    channel: str
    recipient: str
    subject: str
    body: str
    dedupe_key: str
    ticket_code: str
    status: OutboxStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str


class OutboxRepository(Protocol):
    def enqueue(self, message: NewMessage, now: datetime) -> int | None:
        """Queue a message; ``None`` when its dedupe key was queued before."""
        ...

    def claim_due(self, now: datetime, worker: str, lease: timedelta, limit: int) -> list[OutboxEntry]: ...

    def record_sent(self, entry_id: int, worker: str, now: datetime) -> None: ...

    def record_failure(
        self,
        entry_id: int,
        worker: str,
        status: OutboxStatus,
        next_attempt_at: datetime | None,
        error: str,
    ) -> None: ...

    def list(self, status: OutboxStatus | None, limit: int) -> Sequence[OutboxEntry]: ...

    def retry(self, entry_id: int, now: datetime) -> bool: ...


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    dead: int


class Dispatcher:
    """Claims due messages and sends them through the sender registered for their channel."""

    def __init__(
        self,
        repo: OutboxRepository,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime],
        *,
        worker: str,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.repo, self.senders, self.clock, self.worker = repo, senders, clock, worker
        self.policy = policy or RetryPolicy()
        self.lease = lease

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        sent = failed = dead = 0
        for entry in self.repo.claim_due(self.clock(), self.worker, self.lease, limit):
            try:
                sender = self.senders.get(entry.channel)
                if sender is None:
                    raise DeliveryError(f"no sender configured for channel {entry.channel!r}")
                sender.send(
                    OutgoingMessage(
                        channel=entry.channel,
                        recipient=entry.recipient,
                        subject=entry.subject,
                        body=entry.body,
                        message_id=f"outbox-{entry.id}",
                    )
                )
            except DeliveryError as exc:
                status, next_at = self.policy.after_failure(entry.attempts + 1, self.clock())
                self.repo.record_failure(entry.id, self.worker, status, next_at, str(exc))
                log.warning("outbox %s to %s failed (%s): %s", entry.id, entry.channel, status, exc)
                if status is OutboxStatus.DEAD:
                    dead += 1
                else:
                    failed += 1
                continue
            self.repo.record_sent(entry.id, self.worker, self.clock())
            sent += 1
        return DeliveryReport(sent=sent, failed=failed, dead=dead)
