"""Named leases in the ``scheduler_leases`` table: one holder at a time, across threads, processes and
hosts, on SQLite and PostgreSQL alike.

Taking or renewing a lease is one conditional ``UPDATE ... WHERE name = :name AND (holder = :me OR
expires_at < :now)``. On PostgreSQL a concurrent updater waits for the row lock and then re-checks the
condition against the committed row (READ COMMITTED), so only one of two racers matches; on SQLite the
writers are serialised by ``BEGIN IMMEDIATE``. The first holder inserts the row; a racing insert loses on
the primary key. A holder that stops renewing loses the lease when it expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from ticketing.db.base import Base
from ticketing.db.types import AwareDateTime


class LeaseRow(Base):
    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(AwareDateTime())
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime())


class SqlLeases:
    """The lease port of :class:`ticketing.scheduler.Scheduler` over the database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew ``name`` for ``holder`` until ``now + ttl``; False while another holds it."""
        with self.sessions.begin() as session:
            result = session.execute(
                update(LeaseRow)
                .where(LeaseRow.name == name, or_(LeaseRow.holder == holder, LeaseRow.expires_at < now))
                .values(holder=holder, expires_at=now + ttl)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) == 1:
                return True
            if session.get(LeaseRow, name) is not None:
                return False
        try:
            with self.sessions.begin() as session:
                session.add(LeaseRow(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
            return True
        except IntegrityError:  # another holder inserted it first
            return False

    def release(self, name: str, holder: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder))

    def holder(self, name: str, now: datetime) -> str | None:
        """Who holds ``name`` at ``now`` (None when free or expired)."""
        with self.sessions() as session:
            row = session.get(LeaseRow, name)
            return row.holder if row is not None and row.expires_at >= now else None
