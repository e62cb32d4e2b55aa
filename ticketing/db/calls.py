"""The ``calls`` table and the SQLAlchemy adapter of :class:`ticketing.calls.CallRepository`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from ticketing.calls import CallRecord, CallSource, Outcome
from ticketing.db.base import Base
from ticketing.db.types import AwareDateTime


class CallRow(Base):
    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_open", "source", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(64))
    called: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    recording: Mapped[str] = mapped_column(String(500), default="")
    ticket_code: Mapped[str] = mapped_column(String(16), default="")
    draft_id: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(16), default=CallSource.APP.value, server_default="app")
    node: Mapped[str] = mapped_column(String(32), default="", server_default="")


def _to_record(row: CallRow) -> CallRecord:
    return CallRecord(
        id=row.id,
        channel_id=row.channel_id,
        caller=row.caller,
        called=row.called,
        started_at=row.started_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        outcome=Outcome(row.outcome) if row.outcome else None,
        recording=row.recording,
        ticket_code=row.ticket_code,
        draft_id=row.draft_id,
        source=CallSource(row.source),
        node=row.node or "",
    )


def _fill(row: CallRow, record: CallRecord) -> None:
    row.channel_id = record.channel_id
    row.caller = record.caller
    row.called = record.called
    row.started_at = record.started_at
    row.answered_at = record.answered_at
    row.ended_at = record.ended_at
    row.outcome = record.outcome.value if record.outcome else None
    row.recording = record.recording
    row.ticket_code = record.ticket_code
    row.draft_id = record.draft_id
    row.source = record.source.value
    row.node = record.node


class SqlCallRepository:
    """One short transaction per call; safe to share between threads (one session per operation)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, record: CallRecord) -> CallRecord:
        with self._sessions.begin() as session:
            row = CallRow()
            _fill(row, record)
            session.add(row)
            session.flush()
            return _to_record(row)

    def update(self, record: CallRecord) -> None:
        with self._sessions.begin() as session:
            row = session.scalars(select(CallRow).where(CallRow.channel_id == record.channel_id)).one()
            _fill(row, record)

    def get(self, call_id: int) -> CallRecord | None:
        with self._sessions() as session:
            row = session.get(CallRow, call_id)
            return _to_record(row) if row else None

    def by_channel(self, channel_id: str) -> CallRecord | None:
        with self._sessions() as session:
            row = session.scalars(select(CallRow).where(CallRow.channel_id == channel_id)).one_or_none()
            return _to_record(row) if row else None

    def list_recent(self, limit: int) -> list[CallRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(CallRow).order_by(CallRow.started_at.desc(), CallRow.id.desc()).limit(limit)
            )
            return [_to_record(r) for r in rows]

    def list_open(self, source: CallSource, limit: int) -> list[CallRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(CallRow)
                .where(CallRow.source == source.value, CallRow.ended_at.is_(None))
                .order_by(CallRow.id)
                .limit(limit)
            )
            return [_to_record(r) for r in rows]
