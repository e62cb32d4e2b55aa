"""Which results are public: a done ticket whose publication the agency's head approved (the
``approve_publication`` entry of the audit log, written by the staff service). Queries for the public
doors: the published tickets matching a filter, and which of some codes are published."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

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
    """``engine`` (the one the sessions use) and ``fresh_s``: the stamp read from the database is
    reused for ``fresh_s`` seconds unless this process committed anything meanwhile (see
    :meth:`stamp`); without an engine it is read on every call."""

    def __init__(
        self, sessions: Callable[[], Session], engine: Engine | None = None, fresh_s: float = 1.0
    ) -> None:
        self.sessions = sessions
        self.fresh_s = fresh_s if engine is not None else 0.0
        self._guard = threading.Lock()
        self._reading = threading.Lock()
        self._writes = 0  # commits of this process (the engine's "commit" event)
        self._kept: tuple[float, int, tuple[object, ...]] | None = None  # (read at, writes, stamp)
        if engine is not None:
            event.listen(engine, "commit", self._committed)

    def _committed(self, _conn: Any) -> None:
        with self._guard:
            self._writes += 1

    def stamp(self) -> tuple[object, ...]:
        """What changes whenever anything a public view shows may have changed: the newest ticket,
        event, audit entry (every ticket change and every publication approval is audited) and
        attachment. Four primary-key lookups; the public doors' answer caches compare it.

        The value read is reused for ``fresh_s`` seconds (monotonic) while no transaction of this
        process committed, so a busy public list costs no database round trip per request: a
        change this process makes shows at once, one made by another process (another web worker,
        the CLI, the call handler) within ``fresh_s`` (docs/decisions/190-public-stamp-reuse.md)."""
        kept = self.kept_stamp()
        if kept is not None:
            return kept
        with self._reading:  # concurrent askers wait for one read
            kept = self.kept_stamp()
            if kept is not None:
                return kept
            now = time.monotonic()
            with self._guard:
                writes = self._writes  # before the read: a commit meanwhile makes the next call read
            value = self._read_stamp()
            with self._guard:
                self._kept = (now, writes, value)
            return value

    def kept_stamp(self) -> tuple[object, ...] | None:
        """What :meth:`stamp` returns without reading the database, or None when it has to read."""
        now = time.monotonic()
        with self._guard:
            kept, writes = self._kept, self._writes
        if kept is not None and kept[1] == writes and 0 <= now - kept[0] < self.fresh_s:
            return kept[2]
        return None

    def _read_stamp(self) -> tuple[object, ...]:
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
            # the table's columns as plain rows: no ORM objects or identity bookkeeping for a list
            stmt = (
                select(*TicketRow.__table__.columns)
                .where(*conditions)
                .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                .limit(query.limit)
                .offset(query.offset)
            )
            rows = [cast(TicketRow, r) for r in session.execute(stmt)]
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
