"""Staff portal tables: users, their scoped role grants, and ticket assignments to officers.

:class:`SqlUserStore` implements :class:`ticketing.users.UserStore` (each write with its audit row in one
transaction); :class:`SqlAssignments` keeps which officer a ticket is assigned to within its agency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from ticketing.access import Grant, Role
from ticketing.db.base import Base
from ticketing.db.models import TicketRow
from ticketing.db.repositories import SqlAuditLog
from ticketing.db.types import AwareDateTime
from ticketing.ports import AuditEntry
from ticketing.users import UserError, UserRecord

# The agency queue lists one agency's tickets newest first and counts them by status: two indexes.
Index("ix_tickets_agency_created", TicketRow.lead_agency, TicketRow.created_at)
Index("ix_tickets_agency_status", TicketRow.lead_agency, TicketRow.status)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())
    grants: Mapped[list[UserGrantRow]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserGrantRow.id"
    )


class UserGrantRow(Base):
    __tablename__ = "user_grants"
    __table_args__ = (UniqueConstraint("user_id", "role", "agency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str] = mapped_column(String(32), default="")  # "" = city-wide
    user: Mapped[UserRow] = relationship(back_populates="grants")


class TicketAssignmentRow(Base):
    """The officer a ticket is assigned to inside its lead agency (one row per ticket)."""

    __tablename__ = "ticket_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_code: Mapped[str] = mapped_column(String(32), unique=True)
    username: Mapped[str] = mapped_column(String(40), index=True)
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime] = mapped_column(AwareDateTime())


def _record(row: UserRow) -> UserRecord:
    grants = tuple(Grant(Role(g.role), g.agency or None) for g in row.grants)
    return UserRecord(
        row.id,
        row.username,
        row.display_name,
        row.password_hash,
        grants,
        row.active,
        row.created_at,
        row.updated_at,
        row.session_version,
    )


def _write(row: UserRow, user: UserRecord) -> None:
    row.username = user.username
    row.display_name = user.display_name
    row.password_hash = user.password_hash
    row.active = user.active
    row.session_version = user.session_version
    row.created_at = user.created_at
    row.updated_at = user.updated_at
    have = {(g.role, g.agency) for g in row.grants}
    want = {(g.role.value, g.agency or "") for g in user.grants}
    row.grants = [g for g in row.grants if (g.role, g.agency) in want]
    for role, agency in sorted(want - have):
        row.grants.append(UserGrantRow(role=role, agency=agency))


class SqlUserStore:
    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._factory = session_factory

    def _by_name(self, session: Session, username: str) -> UserRow | None:
        stmt = select(UserRow).where(UserRow.username == username).options(selectinload(UserRow.grants))
        return session.scalar(stmt)

    def get(self, username: str) -> UserRecord | None:
        with self._factory() as session:
            row = self._by_name(session, username)
            return _record(row) if row else None

    def get_id(self, user_id: int) -> UserRecord | None:
        with self._factory() as session:
            stmt = select(UserRow).where(UserRow.id == user_id).options(selectinload(UserRow.grants))
            row = session.scalar(stmt)
            return _record(row) if row else None

    def all(self) -> list[UserRecord]:
        with self._factory() as session:
            stmt = select(UserRow).order_by(UserRow.username).options(selectinload(UserRow.grants))
            return [_record(r) for r in session.scalars(stmt)]

    def add(self, user: UserRecord, audit: AuditEntry) -> UserRecord:
        with self._factory() as session:
            if self._by_name(session, user.username) is not None:
                raise UserError(
                    f"Người dùng {user.username} đã tồn tại / user {user.username} already exists"
                )
            row = UserRow(grants=[])
            _write(row, user)
            session.add(row)
            SqlAuditLog(session).record(audit)
            session.flush()
            saved = _record(row)
            session.commit()
            return saved

    def update(self, user: UserRecord, audit: AuditEntry) -> None:
        with self._factory() as session:
            row = self._by_name(session, user.username)
            if row is None:
                raise UserError(f"Không có người dùng {user.username!r} / no user {user.username!r}")
            _write(row, user)
            SqlAuditLog(session).record(audit)
            session.commit()


class SqlAssignments:
    """Ticket -> assigned officer, each change audited."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._factory = session_factory

    def of(self, codes: Iterable[str]) -> dict[str, str]:
        codes = list(codes)
        if not codes:
            return {}
        with self._factory() as session:
            stmt = select(TicketAssignmentRow).where(TicketAssignmentRow.ticket_code.in_(codes))
            return {r.ticket_code: r.username for r in session.scalars(stmt)}

    def codes_of(self, username: str) -> list[str]:
        with self._factory() as session:
            stmt = select(TicketAssignmentRow.ticket_code).where(TicketAssignmentRow.username == username)
            return list(session.scalars(stmt))

    def assign(self, code: str, username: str, audit: AuditEntry) -> None:
        with self._factory() as session:
            row = session.scalar(select(TicketAssignmentRow).where(TicketAssignmentRow.ticket_code == code))
            if row is None:
                row = TicketAssignmentRow(ticket_code=code)
                session.add(row)
            row.username = username
            row.assigned_by = audit.actor
            row.assigned_at = audit.at
            SqlAuditLog(session).record(audit)
            session.commit()
