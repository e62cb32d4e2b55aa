"""The tables: tickets and their history, coordinators and attachments; agencies, routing rules,
tracking-code sequences and the audit log. Typed SQLAlchemy 2.0 models on :class:`ticketing.db.base.Base`.

A ticket's caller and place are flattened into columns. Its status is stored as the Vietnamese label
(``Status`` values). Migrations in ``alembic/versions`` must match these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.db.base import Base
from ticketing.db.types import AwareDateTime


class TicketRow(Base):
    __tablename__ = "tickets"
    # the duplicate search of every filing: the recent reports of one ward and category
    __table_args__ = (
        Index("ix_tickets_ward_code_category_created_at", "ward_code", "category", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), index=True)
    city: Mapped[str] = mapped_column(String(16))
    # caller (personal data: never printed unmasked in lists)
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    caller_cccd: Mapped[str] = mapped_column(String(20), default="")
    caller_phone: Mapped[str] = mapped_column(String(32), default="")
    caller_address: Mapped[str] = mapped_column(String(500), default="")
    caller_email: Mapped[str] = mapped_column(String(200), default="")
    caller_confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    # place
    place_address: Mapped[str] = mapped_column(String(500), default="")
    ward_code: Mapped[str] = mapped_column(String(8), index=True, default="")
    ward_name: Mapped[str] = mapped_column(String(200), default="")
    place_city: Mapped[str] = mapped_column(String(16), default="")
    latitude: Mapped[float | None] = mapped_column(Float)  # WGS 84 degrees
    longitude: Mapped[float | None] = mapped_column(Float)
    # report
    content: Mapped[str] = mapped_column(Text)
    transcript: Mapped[str] = mapped_column(Text, default="")
    incident_time: Mapped[datetime | None] = mapped_column(AwareDateTime())
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    lead_agency: Mapped[str] = mapped_column(String(32), index=True, default="")
    # deadlines
    dispatch_due: Mapped[datetime | None] = mapped_column(AwareDateTime())
    due_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_reason: Mapped[str] = mapped_column(Text, default="")
    # outcome
    draft_result: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    duplicate_of: Mapped[str] = mapped_column(String(32), default="")
    rating: Mapped[str | None] = mapped_column(String(32))
    rated_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    clarification_request: Mapped[str] = mapped_column(Text, default="")
    clarification_requested_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    clarification_answer: Mapped[str] = mapped_column(Text, default="")
    # optimistic locking: two processes changing the same ticket cannot silently overwrite each other
    version: Mapped[int] = mapped_column(Integer, default=1)

    events: Mapped[list[TicketEventRow]] = relationship(
        back_populates="ticket", order_by="TicketEventRow.seq", cascade="all, delete-orphan"
    )
    coordinators: Mapped[list[TicketCoordinatorRow]] = relationship(
        back_populates="ticket", order_by="TicketCoordinatorRow.seq", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[AttachmentRow]] = relationship(
        back_populates="ticket", order_by="AttachmentRow.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class TicketEventRow(Base):
    __tablename__ = "ticket_events"
    __table_args__ = (UniqueConstraint("ticket_id", "seq", name="uq_ticket_events_ticket_id_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    ticket: Mapped[TicketRow] = relationship(back_populates="events")


class TicketCoordinatorRow(Base):
    __tablename__ = "ticket_coordinators"
    __table_args__ = (
        UniqueConstraint("ticket_id", "agency", name="uq_ticket_coordinators_ticket_id_agency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    agency: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    posted_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(100), default="")

    ticket: Mapped[TicketRow] = relationship(back_populates="coordinators")


class AttachmentRow(Base):
    """Metadata of a file in the content-addressed store (:mod:`ticketing.attachments`)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(AwareDateTime())
    added_by: Mapped[str] = mapped_column(String(100))

    ticket: Mapped[TicketRow | None] = relationship(back_populates="attachments")


class AgencyRow(Base):
    __tablename__ = "agencies"
    __table_args__ = (Index("ix_agencies_city_kind", "city", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))  # department | ward_committee | utility | centre
    city: Mapped[str] = mapped_column(String(16))
    ward_code: Mapped[str] = mapped_column(String(8), default="", index=True)
    focal_name: Mapped[str] = mapped_column(String(200), default="")
    focal_phone: Mapped[str] = mapped_column(String(32), default="")
    focal_email: Mapped[str] = mapped_column(String(200), default="")
    head_name: Mapped[str] = mapped_column(String(200), default="")
    head_phone: Mapped[str] = mapped_column(String(32), default="")
    head_email: Mapped[str] = mapped_column(String(200), default="")
    duty_phone: Mapped[str] = mapped_column(String(32), default="")


class RoutingRuleRow(Base):
    __tablename__ = "routing_rules"
    __table_args__ = (
        UniqueConstraint("city", "category", "ward_code", name="uq_routing_rules_city_category_ward"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    ward_code: Mapped[str] = mapped_column(String(8), default="")  # "" = any ward of the city
    agency: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


TICKET_CODE_SEQUENCE = Sequence("ticket_code_seq", metadata=Base.metadata)
"""PostgreSQL: the numbers of tracking codes (migration 0017); ``nextval`` never waits for another
transaction, so concurrent filings do not queue on it. A rolled-back filing leaves its number unused."""


class CodeSequenceRow(Base):
    """Counters: incremented with one ``UPDATE ... RETURNING`` (row lock on PostgreSQL, the write lock
    on SQLite), so concurrent callers never get the same number. Tracking codes use it on SQLite, whose
    writers queue anyway; PostgreSQL takes them from :data:`TICKET_CODE_SEQUENCE`."""

    __tablename__ = "code_sequences"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class AuditLogRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
