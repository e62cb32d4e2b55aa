"""Which results are public: a done ticket whose publication the agency's head approved (the
``approve_publication`` entry of the audit log, written by the staff service). Queries for the public
doors: the published tickets matching a filter, and which of some codes are published."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from ticketing.db.models import AttachmentRow, AuditLogRow, TicketEventRow, TicketRow
from ticketing.db.repositories import _LOAD_CHILDREN, SqlTicketRepository, _read_ticket
from ticketing.domain.model import Attachment, AttachmentKind, Status, Ticket
from ticketing.ports import TicketQuery
from ticketing.public import PublicTicket, public_view

PUBLISH_ACTION = "approve_publication"


def _approved() -> object:
    return (
        select(AuditLogRow.entity_id)
        .where(AuditLogRow.entity == "ticket", AuditLogRow.action == PUBLISH_ACTION)
        .scalar_subquery()
    )


class SqlPublication:
    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    def stamp(self) -> tuple[object, ...]:
        """What changes whenever anything a public view shows may have changed: the newest ticket,
        event, audit entry (every ticket change and every publication approval is audited) and
        attachment. Four primary-key lookups; the public doors' answer caches compare it."""
        with self.sessions() as session:
            stmt = select(
                select(func.max(TicketRow.id)).scalar_subquery(),
                select(func.max(TicketEventRow.id)).scalar_subquery(),
                select(func.max(AuditLogRow.id)).scalar_subquery(),
                select(func.max(AttachmentRow.id)).scalar_subquery(),
            )
            row = session.execute(stmt).one()
            return tuple(row)

    def published(self, codes: Sequence[str]) -> set[str]:
        """The codes among ``codes`` whose result is public."""
        if not codes:
            return set()
        with self.sessions() as session:
            stmt = select(AuditLogRow.entity_id).where(
                AuditLogRow.entity == "ticket",
                AuditLogRow.action == PUBLISH_ACTION,
                AuditLogRow.entity_id.in_(list(codes)),
            )
            found = set(session.scalars(stmt))
            done = select(TicketRow.code).where(
                TicketRow.code.in_(list(found)), TicketRow.status == Status.DONE.value
            )
            return set(session.scalars(done)) if found else set()

    def find(self, query: TicketQuery) -> list[Ticket]:
        """Published tickets matching ``query`` (its statuses are ignored), newest first."""
        with self.sessions() as session:
            repo = SqlTicketRepository(session)
            conditions = repo._conditions(query)
            stmt = (
                select(TicketRow)
                .where(
                    *conditions,
                    TicketRow.status == Status.DONE.value,
                    TicketRow.code.in_(_approved()),  # type: ignore[arg-type]
                )
                .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                .limit(query.limit)
                .offset(query.offset)
                .options(*_LOAD_CHILDREN)
            )
            return [_read_ticket(r) for r in session.scalars(stmt)]

    def views(self, query: TicketQuery, *, published_only: bool = False) -> list[PublicTicket]:
        """The public views of the tickets matching ``query`` (drafts never), newest first, in four
        queries whatever the count: the tickets without their children, their last change, which
        are published, and the evidence of those."""
        with self.sessions() as session:
            conditions = SqlTicketRepository(session)._conditions(query)
            conditions.append(TicketRow.status != Status.DRAFT.value)
            if published_only:
                conditions.append(TicketRow.status == Status.DONE.value)
                conditions.append(TicketRow.code.in_(_approved()))  # type: ignore[arg-type]
            stmt = (
                select(TicketRow)
                .where(*conditions)
                .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                .limit(query.limit)
                .offset(query.offset)
                .options(lazyload("*"))
            )
            rows = list(session.scalars(stmt))
            if not rows:
                return []
            ids = [r.id for r in rows]
            updated = dict(
                session.execute(
                    select(TicketEventRow.ticket_id, func.max(TicketEventRow.at))
                    .where(TicketEventRow.ticket_id.in_(ids))
                    .group_by(TicketEventRow.ticket_id)
                ).all()
            )
            done = [r.code for r in rows if r.status == Status.DONE.value]
            if published_only:
                published = set(done)
            elif done:
                published = set(
                    session.scalars(
                        select(AuditLogRow.entity_id).where(
                            AuditLogRow.entity == "ticket",
                            AuditLogRow.action == PUBLISH_ACTION,
                            AuditLogRow.entity_id.in_(done),
                        )
                    )
                )
            else:
                published = set()
            evidence: dict[int, list[Attachment]] = {}
            pub_ids = [r.id for r in rows if r.code in published]
            if pub_ids:
                stmt_att = (
                    select(AttachmentRow)
                    .where(
                        AttachmentRow.ticket_id.in_(pub_ids),
                        AttachmentRow.kind == AttachmentKind.EVIDENCE.value,
                    )
                    .order_by(AttachmentRow.id)
                )
                for a in session.scalars(stmt_att):
                    evidence.setdefault(a.ticket_id or 0, []).append(
                        Attachment(
                            a.sha256,
                            AttachmentKind(a.kind),
                            a.filename,
                            a.media_type,
                            a.size,
                            a.added_at,
                            a.added_by,
                        )
                    )
            out = []
            for row in rows:
                ticket = _read_ticket(row, children=False)
                ticket.attachments = evidence.get(row.id, [])
                out.append(public_view(ticket, row.code in published, updated_at=updated.get(row.id)))
            return out
