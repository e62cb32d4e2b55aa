"""SQL side of ``hotline retention``: find what is past retention and erase its personal data.

Each erase runs in its own short transaction; erasing twice is harmless (the rows no longer match).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ticketing.db.calls import CallRow
from ticketing.db.models import AttachmentRow, AuditLogRow, TicketRow
from ticketing.domain.model import AttachmentKind, Status

CLOSED = [Status.DONE.value, Status.REJECTED.value]
PERSONAL_KINDS = [AttachmentKind.RECORDING.value, AttachmentKind.TRANSCRIPT.value]
ERASED_FIELDS = ("caller_name", "caller_cccd", "caller_phone", "caller_address", "caller_email", "transcript")


@dataclass(frozen=True)
class ExpiredTicket:
    code: str
    closed_at: datetime
    recordings: int  # recording and transcript attachments to remove


@dataclass(frozen=True)
class ExpiredCall:
    call_id: int
    channel_id: str
    recording: str  # the path Asterisk wrote ("" when already erased)


class SqlRetentionRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def expired_tickets(self, cutoff: datetime) -> list[ExpiredTicket]:
        """Closed before ``cutoff`` and still holding a caller, a transcript or a recording."""
        personal = or_(
            *(getattr(TicketRow, f) != "" for f in ERASED_FIELDS),
            TicketRow.attachments.any(AttachmentRow.kind.in_(PERSONAL_KINDS)),
        )
        recordings = (
            select(func.count(AttachmentRow.id))
            .where(AttachmentRow.ticket_id == TicketRow.id, AttachmentRow.kind.in_(PERSONAL_KINDS))
            .scalar_subquery()
        )
        query = (
            select(TicketRow.code, TicketRow.closed_at, recordings)
            .where(TicketRow.status.in_(CLOSED), TicketRow.closed_at < cutoff, personal)
            .order_by(TicketRow.closed_at)
        )
        with self._sessions() as session:
            return [ExpiredTicket(c, at, n) for c, at, n in session.execute(query) if at is not None]

    def erase_ticket(self, code: str, at: datetime, actor: str) -> list[str]:
        """Blank the caller and transcript, drop recording/transcript attachments and blank the audit
        values of this ticket (its snapshots quote the caller); returns the dropped blobs' digests."""
        with self._sessions.begin() as session:
            ticket_id = session.scalar(select(TicketRow.id).where(TicketRow.code == code))
            if ticket_id is None:
                return []
            session.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id)
                .values(**dict.fromkeys(ERASED_FIELDS, ""), caller_confidential=False)
            )
            dropped = list(
                session.scalars(
                    select(AttachmentRow.sha256).where(
                        AttachmentRow.ticket_id == ticket_id, AttachmentRow.kind.in_(PERSONAL_KINDS)
                    )
                )
            )
            session.execute(
                delete(AttachmentRow).where(
                    AttachmentRow.ticket_id == ticket_id, AttachmentRow.kind.in_(PERSONAL_KINDS)
                )
            )
            for entry in session.scalars(
                select(AuditLogRow).where(AuditLogRow.entity == "ticket", AuditLogRow.entity_id == code)
            ):
                entry.before = None if entry.before is None else {"erased": sorted(entry.before)}
                entry.after = None if entry.after is None else {"erased": sorted(entry.after)}
            session.add(
                AuditLogRow(
                    at=at,
                    actor=actor,
                    entity="ticket",
                    entity_id=code,
                    action="retention_erase",
                    before=None,
                    after={
                        "erased": [*ERASED_FIELDS, "recordings", "audit_values"],
                        "attachments": len(dropped),
                    },
                )
            )
            return dropped

    def expired_calls(self, cutoff: datetime) -> list[ExpiredCall]:
        """Calls that ended before ``cutoff``, still holding a number or a recording, whose ticket (if
        any) is closed before the cutoff too: their recording follows the ticket's retention."""
        open_ticket = select(TicketRow.code).where(
            TicketRow.code == CallRow.ticket_code,
            or_(
                TicketRow.status.not_in(CLOSED), TicketRow.closed_at.is_(None), TicketRow.closed_at >= cutoff
            ),
        )
        query = (
            select(CallRow.id, CallRow.channel_id, CallRow.recording)
            .where(
                CallRow.ended_at.is_not(None),
                CallRow.ended_at < cutoff,
                or_(CallRow.recording != "", CallRow.caller != ""),
                ~open_ticket.exists(),
            )
            .order_by(CallRow.ended_at)
        )
        with self._sessions() as session:
            return [ExpiredCall(i, c, r) for i, c, r in session.execute(query)]

    def erase_call(self, call_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(update(CallRow).where(CallRow.id == call_id).values(caller="", recording=""))

    def referenced_blobs(self) -> set[str]:
        with self._sessions() as session:
            return set(session.scalars(select(AttachmentRow.sha256).distinct()))
