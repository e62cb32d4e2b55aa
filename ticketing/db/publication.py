"""Which results are public: a done ticket whose publication the agency's head approved (the
``approve_publication`` entry of the audit log, written by the staff service). Queries for the public
doors: the published tickets matching a filter, and which of some codes are published."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketing.db.models import AuditLogRow, TicketRow
from ticketing.db.repositories import _LOAD_CHILDREN, SqlTicketRepository, _read_ticket
from ticketing.domain.model import Status, Ticket
from ticketing.ports import TicketQuery

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
