"""SQLAlchemy adapters of the ports in :mod:`ticketing.ports`: rows <-> domain tickets, agencies,
routing rules, the audit log and the tracking-code counter, grouped in one :class:`SqlUnitOfWork`."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Self, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, lazyload, selectinload

from ticketing.db.base import Base
from ticketing.db.errors import storage_errors, translate
from ticketing.db.models import (
    TICKET_CODE_SEQUENCE,
    AgencyRow,
    AttachmentRow,
    AuditLogRow,
    CodeSequenceRow,
    RoutingRuleRow,
    TicketCoordinatorRow,
    TicketEventRow,
    TicketRow,
)
from ticketing.domain import routing
from ticketing.domain.duplicates import Prior, text_of
from ticketing.domain.model import (
    Attachment,
    AttachmentKind,
    Caller,
    Channel,
    CoordinatorPart,
    Event,
    Kind,
    Place,
    Priority,
    Rating,
    Status,
    Ticket,
)
from ticketing.ports import AgencyRecord, AuditEntry, RoutingRuleRecord, TicketQuery

CLOSED_STATUSES = (Status.DONE.value, Status.REJECTED.value)

# Ticket fields stored in a column of the same name.
_SCALARS = (
    "code",
    "content",
    "transcript",
    "incident_time",
    "created_at",
    "created_by",
    "city",
    "lead_agency",
    "dispatch_due",
    "due_at",
    "dispatched_at",
    "accepted_at",
    "closed_at",
    "extensions",
    "escalation_level",
    "overdue",
    "overdue_reason",
    "draft_result",
    "result",
    "rejection_reason",
    "duplicate_of",
    "rated_at",
    "clarification_request",
    "clarification_requested_at",
    "clarification_answer",
)


class StorageError(RuntimeError):
    """The stored state contradicts a write (e.g. history would be rewritten)."""


def _ticket_columns(t: Ticket) -> dict[str, Any]:
    """The ``tickets`` row of a domain ticket (its own columns; not the id, not its children)."""
    values: dict[str, Any] = {name: getattr(t, name) for name in _SCALARS}
    values.update(
        channel=t.channel.value,
        kind=t.kind.value,
        category=t.category,
        priority=t.priority.value,
        status=t.status.value,
        rating=t.rating.value if t.rating is not None else None,
        caller_name=t.caller.name,
        caller_cccd=t.caller.cccd,
        caller_phone=t.caller.phone,
        caller_address=t.caller.address,
        caller_email=t.caller.email,
        caller_confidential=t.caller.confidential,
        place_address=t.place.address,
        ward_code=t.place.ward_code,
        ward_name=t.place.ward_name,
        place_city=t.place.city,
        latitude=t.place.lat,
        longitude=t.place.lon,
    )
    return values


def _event_columns(seq: int, ev: Event) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": ev.at,
        "actor": ev.actor,
        "action": ev.action,
        "from_status": ev.from_status.value if ev.from_status is not None else None,
        "to_status": ev.to_status.value if ev.to_status is not None else None,
        "note": ev.note,
    }


def _coordinator_columns(seq: int, part: CoordinatorPart) -> dict[str, Any]:
    return {
        "seq": seq,
        "agency": part.agency,
        "text": part.text,
        "posted_at": part.posted_at,
        "actor": part.actor,
    }


def _attachment_columns(att: Attachment) -> dict[str, Any]:
    return {
        "sha256": att.sha256,
        "kind": att.kind.value,
        "filename": att.filename,
        "media_type": att.media_type,
        "size": att.size,
        "added_at": att.added_at,
        "added_by": att.added_by,
    }


def _write_ticket(row: TicketRow, t: Ticket) -> None:
    for name, value in _ticket_columns(t).items():
        setattr(row, name, value)

    stored = len(row.events)
    if len(t.history) < stored:
        raise StorageError(f"ticket {t.code}: history would lose {stored - len(t.history)} entries")
    for seq, ev in enumerate(t.history[stored:], start=stored):
        row.events.append(TicketEventRow(**_event_columns(seq, ev)))

    by_agency = {c.agency: c for c in row.coordinators}
    for part in t.coordinators:
        existing = by_agency.get(part.agency)
        if existing is None:
            row.coordinators.append(TicketCoordinatorRow(**_coordinator_columns(len(row.coordinators), part)))
        else:
            existing.text, existing.posted_at, existing.actor = part.text, part.posted_at, part.actor

    stored_att = len(row.attachments)
    if len(t.attachments) < stored_att:
        raise StorageError(f"ticket {t.code}: attachments are never removed")
    for att in t.attachments[stored_att:]:
        row.attachments.append(AttachmentRow(**_attachment_columns(att)))


def _status(value: str | None) -> Status | None:
    return Status(value) if value is not None else None


def _read_ticket(row: TicketRow, *, children: bool = True) -> Ticket:
    """The domain ticket of a row; ``children=False`` leaves history, coordinators and attachments
    empty (and unloaded) for read-only uses such as duplicate search."""
    kwargs: dict[str, Any] = {name: getattr(row, name) for name in _SCALARS}
    return Ticket(
        **kwargs,
        id=row.id,
        channel=Channel(row.channel),
        kind=Kind(row.kind),
        category=row.category,
        priority=Priority(row.priority),
        status=Status(row.status),
        rating=Rating(row.rating) if row.rating is not None else None,
        caller=Caller(
            name=row.caller_name,
            cccd=row.caller_cccd,
            phone=row.caller_phone,
            address=row.caller_address,
            email=row.caller_email,
            confidential=row.caller_confidential,
        ),
        place=Place(
            address=row.place_address,
            ward_code=row.ward_code,
            ward_name=row.ward_name,
            city=row.place_city,
            lat=row.latitude,
            lon=row.longitude,
        ),
        history=[]
        if not children
        else [
            Event(
                at=e.at,
                actor=e.actor,
                action=e.action,
                from_status=_status(e.from_status),
                to_status=_status(e.to_status),
                note=e.note,
            )
            for e in row.events
        ],
        coordinators=[]
        if not children
        else [
            CoordinatorPart(agency=c.agency, text=c.text, posted_at=c.posted_at, actor=c.actor)
            for c in row.coordinators
        ],
        attachments=[]
        if not children
        else [
            Attachment(
                sha256=a.sha256,
                kind=AttachmentKind(a.kind),
                filename=a.filename,
                media_type=a.media_type,
                size=a.size,
                added_at=a.added_at,
                added_by=a.added_by,
            )
            for a in row.attachments
        ],
    )


_LOAD_CHILDREN = (
    selectinload(TicketRow.events),
    selectinload(TicketRow.coordinators),
    selectinload(TicketRow.attachments),
)


_ORDERS: dict[str, tuple[Any, ...]] = {
    "created_desc": (TicketRow.created_at.desc(), TicketRow.id.desc()),
    "created_asc": (TicketRow.created_at.asc(), TicketRow.id.asc()),
    "due_asc": (
        func.coalesce(TicketRow.due_at, TicketRow.dispatch_due).is_(None),
        func.coalesce(TicketRow.due_at, TicketRow.dispatch_due).asc(),
        TicketRow.id.asc(),
    ),
}


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


_INSERT_TICKET = insert(_table(TicketRow)).returning(TicketRow.id)
_INSERT_EVENT = insert(_table(TicketEventRow))
_INSERT_COORDINATOR = insert(_table(TicketCoordinatorRow))
_INSERT_ATTACHMENT = insert(_table(AttachmentRow))


class SqlTicketRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, ticket: Ticket) -> Ticket:
        # Core inserts, not an ORM flush: filing is the hottest write path, and a new ticket has no
        # stored state to reconcile. The id comes back from the INSERT.
        ticket.id = int(self.session.execute(_INSERT_TICKET, _ticket_columns(ticket)).scalar_one())
        events = [_event_columns(seq, ev) for seq, ev in enumerate(ticket.history)]
        parts = [_coordinator_columns(seq, c) for seq, c in enumerate(ticket.coordinators)]
        files = [_attachment_columns(a) for a in ticket.attachments]
        children = ((_INSERT_EVENT, events), (_INSERT_COORDINATOR, parts), (_INSERT_ATTACHMENT, files))
        for stmt, rows in children:
            if rows:
                self.session.execute(stmt, [{**r, "ticket_id": ticket.id} for r in rows])
        return ticket

    def _row(self, code: str, *, for_update: bool = False) -> TicketRow | None:
        stmt = select(TicketRow).where(TicketRow.code == code).options(*_LOAD_CHILDREN)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def get(self, code: str, *, for_update: bool = False) -> Ticket | None:
        row = self._row(code, for_update=for_update)
        return _read_ticket(row) if row is not None else None

    def save(self, ticket: Ticket) -> None:
        row = self._row(ticket.code)
        if row is None:
            raise StorageError(f"ticket {ticket.code} does not exist")
        _write_ticket(row, ticket)
        self.session.flush()

    def _conditions(self, q: TicketQuery) -> list[ColumnElement[bool]]:
        cond: list[ColumnElement[bool]] = []
        if q.statuses:
            cond.append(TicketRow.status.in_([s.value for s in q.statuses]))
        if q.lead_agency:
            cond.append(TicketRow.lead_agency == q.lead_agency)
        if q.category:
            cond.append(TicketRow.category == q.category)
        if q.ward_code:
            cond.append(TicketRow.ward_code == q.ward_code)
        if q.city:
            cond.append(TicketRow.city == q.city)
        if q.codes:
            cond.append(TicketRow.code.in_(list(q.codes)))
        if q.created_from is not None:
            cond.append(TicketRow.created_at >= q.created_from)
        if q.created_to is not None:
            cond.append(TicketRow.created_at < q.created_to)
        if q.overdue_at is not None:
            now = q.overdue_at
            cond.append(
                or_(
                    TicketRow.overdue.is_(True),
                    and_(
                        TicketRow.status.not_in(CLOSED_STATUSES),
                        or_(
                            TicketRow.due_at < now,
                            and_(TicketRow.status == Status.NEW.value, TicketRow.dispatch_due < now),
                        ),
                    ),
                )
            )
        return cond

    def find(self, query: TicketQuery) -> list[Ticket]:
        stmt = (
            select(TicketRow)
            .where(*self._conditions(query))
            .order_by(*_ORDERS.get(query.order, _ORDERS["created_desc"]))
            .limit(query.limit)
            .offset(query.offset)
        )
        if not query.children:  # a listing: the rows alone, no history or attachments
            stmt = stmt.options(lazyload("*"))
            return [_read_ticket(r, children=False) for r in self.session.scalars(stmt)]
        stmt = stmt.options(*_LOAD_CHILDREN)
        return [_read_ticket(r) for r in self.session.scalars(stmt)]

    def count(self, query: TicketQuery, cap: int | None = None) -> int:
        """How many tickets match; with ``cap``, counting stops there (a "more than" for big lists)."""
        if cap is None:
            stmt = select(func.count(TicketRow.id)).where(*self._conditions(query))
            return int(self.session.scalar(stmt) or 0)
        inner = select(TicketRow.id).where(*self._conditions(query)).limit(cap).subquery()
        return int(self.session.scalar(select(func.count()).select_from(inner)) or 0)

    def recent(self, *, category: str, ward_code: str, since: datetime) -> list[Ticket]:
        # Duplicate search needs the report itself, not its history: the table's columns alone, read
        # as plain rows (no ORM identity bookkeeping: filing reads this inside its sequence lock).
        stmt = (
            select(*TicketRow.__table__.columns)
            .where(
                TicketRow.category == category,
                TicketRow.ward_code == ward_code,
                TicketRow.created_at >= since,
                TicketRow.status != Status.REJECTED.value,
            )
            .order_by(TicketRow.created_at)
        )
        return [_read_ticket(cast(TicketRow, r), children=False) for r in self.session.execute(stmt)]

    def recent_priors(self, *, category: str, ward_code: str, since: datetime) -> list[Prior]:
        params = {"category": category, "ward_code": ward_code, "since": since}
        return [
            Prior(code, Status(status), created_at, text_of(content, address))
            for code, status, created_at, content, address in self.session.execute(_RECENT_PRIORS, params)
        ]

    def next_sequence(self, name: str = "ticket") -> int:
        return next_sequence(self.session, name)


_RECENT_PRIORS = (
    select(TicketRow.code, TicketRow.status, TicketRow.created_at, TicketRow.content, TicketRow.place_address)
    .where(
        TicketRow.category == bindparam("category"),
        TicketRow.ward_code == bindparam("ward_code"),
        TicketRow.created_at >= bindparam("since", type_=TicketRow.created_at.type),
        TicketRow.status != Status.REJECTED.value,
    )
    .order_by(TicketRow.created_at)
)
_NEXT_TICKET_CODE = select(TICKET_CODE_SEQUENCE.next_value())


def next_sequence(session: Session, name: str) -> int:
    """The next number of a named counter. Tracking codes (``"ticket"``) on PostgreSQL come from
    ``nextval`` (no lock: concurrent filings never queue; a rolled-back filing leaves a gap). Every
    other counter, and all of them on SQLite, is one ``UPDATE ... RETURNING`` whose row lock
    (PostgreSQL) or write lock (SQLite, taken by ``BEGIN IMMEDIATE``) makes concurrent callers queue
    and rolls back with the transaction."""
    if name == "ticket" and session.get_bind().dialect.name == "postgresql":
        return int(session.execute(_NEXT_TICKET_CODE).scalar_one())
    stmt = (
        update(CodeSequenceRow)
        .where(CodeSequenceRow.name == name)
        .values(value=CodeSequenceRow.value + 1)
        .returning(CodeSequenceRow.value)
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is None:
        session.add(CodeSequenceRow(name=name, value=1))
        session.flush()
        return 1
    return int(value)


def _agency(row: AgencyRow) -> AgencyRecord:
    return AgencyRecord(**{f.name: getattr(row, f.name) for f in dataclasses.fields(AgencyRecord)})


class SqlAgencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> AgencyRecord | None:
        row = self.session.scalars(select(AgencyRow).where(AgencyRow.code == code)).one_or_none()
        return _agency(row) if row is not None else None

    def find(self, *, city: str = "", kind: str = "") -> list[AgencyRecord]:
        stmt = select(AgencyRow).order_by(AgencyRow.city, AgencyRow.kind, AgencyRow.code)
        if city:
            stmt = stmt.where(AgencyRow.city == city)
        if kind:
            stmt = stmt.where(AgencyRow.kind == kind)
        return [_agency(r) for r in self.session.scalars(stmt)]

    def upsert(self, agency: AgencyRecord) -> bool:
        row = self.session.scalars(select(AgencyRow).where(AgencyRow.code == agency.code)).one_or_none()
        created = row is None
        if row is None:
            row = AgencyRow()
            self.session.add(row)
        for f in dataclasses.fields(AgencyRecord):
            setattr(row, f.name, getattr(agency, f.name))
        self.session.flush()
        return created


def _rule(row: RoutingRuleRow) -> RoutingRuleRecord:
    return RoutingRuleRecord(row.city, row.category, row.ward_code, row.agency, row.priority)


# Built once: the statements every filing runs (building and keying a statement costs more than
# running these small queries).
_MATCHING_RULES = (
    select(
        RoutingRuleRow.city,
        RoutingRuleRow.category,
        RoutingRuleRow.ward_code,
        RoutingRuleRow.agency,
        RoutingRuleRow.priority,
    )
    .where(
        RoutingRuleRow.city == bindparam("city"),
        or_(RoutingRuleRow.category == bindparam("any"), RoutingRuleRow.category == bindparam("category")),
        or_(RoutingRuleRow.ward_code == bindparam("any"), RoutingRuleRow.ward_code == bindparam("ward_code")),
    )
    .order_by(RoutingRuleRow.category, RoutingRuleRow.ward_code)  # as find(): ties keep that order
)


class SqlRoutingRuleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, city: str = "") -> list[RoutingRuleRecord]:
        stmt = select(RoutingRuleRow).order_by(
            RoutingRuleRow.city, RoutingRuleRow.category, RoutingRuleRow.ward_code
        )
        if city:
            stmt = stmt.where(RoutingRuleRow.city == city)
        return [_rule(r) for r in self.session.scalars(stmt)]

    def matching(self, city: str, category: str, ward_code: str) -> list[RoutingRuleRecord]:
        # plain rows of the few rules that can apply (filing reads this for every new report)
        params = {"city": city, "category": category, "ward_code": ward_code, "any": routing.ANY}
        return [RoutingRuleRecord(*r) for r in self.session.execute(_MATCHING_RULES, params)]

    def upsert(self, rule: RoutingRuleRecord, *, at: datetime, actor: str) -> RoutingRuleRecord | None:
        row = self.session.scalars(
            select(RoutingRuleRow).where(
                RoutingRuleRow.city == rule.city,
                RoutingRuleRow.category == rule.category,
                RoutingRuleRow.ward_code == rule.ward_code,
            )
        ).one_or_none()
        before = _rule(row) if row is not None else None
        if row is None:
            row = RoutingRuleRow(city=rule.city, category=rule.category, ward_code=rule.ward_code)
            self.session.add(row)
        row.agency, row.priority, row.created_at, row.created_by = rule.agency, rule.priority, at, actor
        self.session.flush()
        return before


def to_json(value: Any) -> Any:
    """A JSON-ready copy of a dataclass / enum / datetime structure (for the audit log)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


_INSERT_AUDIT = insert(_table(AuditLogRow))


class SqlAuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, entry: AuditEntry) -> None:
        values = {
            "at": entry.at,
            "actor": entry.actor,
            "entity": entry.entity,
            "entity_id": entry.entity_id,
            "action": entry.action,
            "before": to_json(entry.before),
            "after": to_json(entry.after),
        }
        self.session.execute(_INSERT_AUDIT, values)  # a Core insert: every change writes one

    def entries(self, entity: str = "", entity_id: str = "") -> list[AuditEntry]:
        stmt = select(AuditLogRow).order_by(AuditLogRow.id)
        if entity:
            stmt = stmt.where(AuditLogRow.entity == entity)
        if entity_id:
            stmt = stmt.where(AuditLogRow.entity_id == entity_id)
        return [
            AuditEntry(r.at, r.actor, r.entity, r.entity_id, r.action, r.before, r.after)
            for r in self.session.scalars(stmt)
        ]


class SqlUnitOfWork:
    """One session and one transaction over every repository; see :class:`ticketing.ports.UnitOfWork`."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None

    def __enter__(self) -> Self:
        self._session = self._factory()
        self.tickets = SqlTicketRepository(self._session)
        self.agencies = SqlAgencyRepository(self._session)
        self.routing = SqlRoutingRuleRepository(self._session)
        self.audit = SqlAuditLog(self._session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        with storage_errors():
            try:
                self._session.rollback()
            finally:
                self._session.close()
                self._session = None
        if isinstance(exc, SQLAlchemyError):  # what the block raised, in ticketing's terms
            raise translate(exc) from exc

    @property
    def session(self) -> Session:
        """The open session, for adapters that add their own rows to this transaction (e.g. an outbox)."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    def commit(self) -> None:
        assert self._session is not None
        self._session.commit()

    def rollback(self) -> None:
        assert self._session is not None
        self._session.rollback()
