"""Outbox policy (pure): when to retry a failed delivery and when to give up (dead letter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after max attempts; visible in `hotline outbox list --dead`


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)

    def delay_after(self, attempts: int) -> timedelta:
        """Back-off after the ``attempts``-th failed attempt (1-based): 30 s, 1 min, 2 min ... 1 h."""
        if attempts < 1:
            raise ValueError("attempts counts from 1")
        seconds = self.first_delay.total_seconds() * self.factor ** (attempts - 1)
        return min(timedelta(seconds=seconds), self.max_delay)

    def after_failure(self, attempts: int, now: datetime) -> tuple[OutboxStatus, datetime | None]:
        """Status and next attempt time after the ``attempts``-th failure."""
        if attempts >= self.max_attempts:
            return OutboxStatus.DEAD, None
        return OutboxStatus.PENDING, now + self.delay_after(attempts)
