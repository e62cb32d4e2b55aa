"""The ``outbox`` table and its SQLAlchemy repository (the notifications ``OutboxRepository`` port).

Claiming is one conditional ``UPDATE`` per batch: a row is taken only while it is pending, due, and not
leased to another worker. On PostgreSQL a concurrent claimer blocks on the row lock and then re-checks
the condition, so it skips rows just taken; on SQLite writers are serialised (``BEGIN IMMEDIATE``).
Either way no message is handed to two workers within a lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from ticketing.db.base import Base
from ticketing.db.errors import storage_errors
from ticketing.db.types import AwareDateTime
from ticketing.notifications.outbox import NewMessage, OutboxEntry
from ticketing.notifications.policy import OutboxStatus


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    ticket_code: Mapped[str] = mapped_column(String(32), default="", index=True)
    status: Mapped[str] = mapped_column(String(8), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(AwareDateTime())


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        kind=row.kind,
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        dedupe_key=row.dedupe_key,
        ticket_code=row.ticket_code,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def enqueue_in(session: Session, message: NewMessage, now: datetime) -> int | None:
    """Queue ``message`` inside the caller's transaction (the transactional-outbox write): one
    ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING``, so a key already queued (or being queued by a
    concurrent transaction, which this one then waits for) is a no-op that never aborts the caller's
    transaction. Returns the new row's id, or None when the key was there."""
    values = {
        "kind": message.kind,
        "channel": message.channel,
        "recipient": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "dedupe_key": message.dedupe_key,
        "ticket_code": message.ticket_code,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "last_error": "",
        "claimed_by": "",
    }
    found = session.execute(_QUEUE[session.get_bind().dialect.name], values).scalar_one_or_none()
    return int(found) if found is not None else None


# built once per dialect (every ticket filing queues its SMS through here)
_QUEUE = {
    name: dialect.insert(OutboxRow.__table__)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(OutboxRow.__table__.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


class SqlOutboxRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def enqueue(self, message: NewMessage, now: datetime) -> int | None:
        # the database down: ticketing's StorageUnavailable, for the callers
        with storage_errors(), self.sessions.begin() as session:
            return enqueue_in(session, message, now)

    def claim_due(self, now: datetime, worker: str, lease: timedelta, limit: int) -> list[OutboxEntry]:
        free = or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now)
        due = and_(
            OutboxRow.status == OutboxStatus.PENDING.value,
            OutboxRow.next_attempt_at <= now,
            free,
        )
        with self.sessions.begin() as session:
            ids = list(
                session.scalars(
                    select(OutboxRow.id).where(due).order_by(OutboxRow.next_attempt_at).limit(limit)
                )
            )
            if not ids:
                return []
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids), due)
                .values(claimed_by=worker, claimed_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            rows = session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.id.in_(ids),
                    OutboxRow.claimed_by == worker,
                    OutboxRow.claimed_until == now + lease,
                )
                .order_by(OutboxRow.id)
            )
            return [_entry(r) for r in rows]

    def record_sent(self, entry_id: int, worker: str, now: datetime) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.claimed_by == worker)
                .values(
                    status=OutboxStatus.SENT.value,
                    attempts=OutboxRow.attempts + 1,
                    sent_at=now,
                    next_attempt_at=None,
                    claimed_until=None,
                    last_error="",
                )
            )

    def record_failure(
        self,
        entry_id: int,
        worker: str,
        status: OutboxStatus,
        next_attempt_at: datetime | None,
        error: str,
    ) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.claimed_by == worker)
                .values(
                    status=status.value,
                    attempts=OutboxRow.attempts + 1,
                    next_attempt_at=next_attempt_at,
                    claimed_until=None,
                    last_error=error[:2000],
                )
            )

    def list(self, status: OutboxStatus | None, limit: int) -> Sequence[OutboxEntry]:
        with self.sessions() as session:
            query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
            if status is not None:
                query = query.where(OutboxRow.status == status.value)
            return [_entry(r) for r in session.scalars(query)]

    def retry(self, entry_id: int, now: datetime) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.status != OutboxStatus.SENT.value)
                .values(
                    status=OutboxStatus.PENDING.value, next_attempt_at=now, claimed_until=None, attempts=0
                )
            )
            return bool(getattr(result, "rowcount", 0))
