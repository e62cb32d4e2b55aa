"""The SQL adapter of :data:`ticketing.notify.OutboxWriter`: queue a message in the unit of work's own
transaction, so it is committed (or rolled back) together with the ticket change that caused it."""

from __future__ import annotations

from datetime import datetime

from ticketing.db.outbox import enqueue_in
from ticketing.db.repositories import SqlUnitOfWork
from ticketing.notifications.outbox import NewMessage
from ticketing.ports import UnitOfWork


def write_in_uow(uow: UnitOfWork, message: NewMessage, now: datetime) -> None:
    """Insert ``message`` into ``outbox`` unless its dedupe key exists (one conflict-ignoring insert:
    a key queued already, or concurrently, never aborts the ticket change around it)."""
    if not isinstance(uow, SqlUnitOfWork):
        raise TypeError("write_in_uow needs the SQL unit of work (ticketing.db.repositories.SqlUnitOfWork)")
    enqueue_in(uow.session, message, now)
