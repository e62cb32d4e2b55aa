"""Ports (Protocols) the ticket service depends on, and the plain records they exchange.

Adapters: :mod:`ticketing.db.repositories` (SQLAlchemy unit of work), :mod:`ticketing.attachments`
(content-addressed files on disk), :class:`SystemClock`. Tests may pass fakes of one layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self
from zoneinfo import ZoneInfo

from ticketing.domain.duplicates import Prior
from ticketing.domain.model import Status, Ticket

AGENCY_KINDS = ("department", "ward_committee", "utility", "centre", "police")


@dataclass(frozen=True)
class AgencyRecord:
    """An agency that can lead or coordinate tickets, with its focal officer and head contacts."""

    code: str
    name: str
    kind: str  # one of AGENCY_KINDS
    city: str
    ward_code: str = ""  # for a ward/commune People's Committee
    focal_name: str = ""
    focal_phone: str = ""
    focal_email: str = ""
    head_name: str = ""
    head_phone: str = ""
    head_email: str = ""
    duty_phone: str = ""  # 24/7 duty line for urgent reports (HP Art. 9.1)


@dataclass(frozen=True)
class RoutingRuleRecord:
    """A stored routing rule: category (x ward, "" = any ward) of a city -> lead agency."""

    city: str
    category: str
    ward_code: str
    agency: str
    priority: int = 0


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    entity: str  # "ticket" | "agency" | "routing_rule" | "attachment"
    entity_id: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass(frozen=True)
class TicketQuery:
    """Filters for listing tickets; empty/None means "any". ``overdue_at`` selects tickets that are
    flagged overdue or open past a deadline at that instant."""

    statuses: Sequence[Status] = ()
    lead_agency: str = ""
    category: str = ""
    ward_code: str = ""
    city: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue_at: datetime | None = None
    codes: Sequence[str] = ()  # only these tracking codes
    order: str = "created_desc"  # created_desc | created_asc | due_asc
    children: bool = True  # False: history, coordinators and attachments are not loaded (listings)
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class TicketRepository(Protocol):
    def add(self, ticket: Ticket) -> Ticket:
        """Insert a new ticket (code must be new); its ``id`` is set when the unit of work commits."""
        ...

    def get(self, code: str, *, for_update: bool = False) -> Ticket | None: ...

    def save(self, ticket: Ticket) -> None:
        """Write back a changed ticket. History and attachments are append-only."""
        ...

    def find(self, query: TicketQuery) -> list[Ticket]: ...

    def count(self, query: TicketQuery, cap: int | None = None) -> int:
        """How many match; with ``cap``, at most ``cap`` (counting stops there)."""
        ...

    def recent(self, *, category: str, ward_code: str, since: datetime) -> list[Ticket]:
        """Tickets of the same category and ward created at or after ``since``, rejected ones left out
        (duplicate search). Their history, coordinators and attachments are not loaded."""
        ...

    def recent_priors(self, *, category: str, ward_code: str, since: datetime) -> list[Prior]:
        """What the duplicate search of a new report needs of :meth:`recent` (plain values, read
        without building tickets: filing runs this for every report)."""
        ...

    def next_sequence(self, name: str = "ticket") -> int:
        """Next number of a named counter, unique even under concurrent callers."""
        ...


class AgencyRepository(Protocol):
    def get(self, code: str) -> AgencyRecord | None: ...

    def find(self, *, city: str = "", kind: str = "") -> list[AgencyRecord]: ...

    def upsert(self, agency: AgencyRecord) -> bool:
        """Insert or update by code; returns True when it was inserted."""
        ...


class RoutingRuleRepository(Protocol):
    def find(self, city: str = "") -> list[RoutingRuleRecord]: ...

    def matching(self, city: str, category: str, ward_code: str) -> list[RoutingRuleRecord]:
        """The city's rules that apply to a report of ``category`` in ``ward_code``: those whose
        category and ward are each that value or the wildcard (what routing chooses among)."""
        ...

    def upsert(self, rule: RoutingRuleRecord, *, at: datetime, actor: str) -> RoutingRuleRecord | None:
        """Insert or replace the rule for (city, category, ward); returns the replaced rule, if any."""
        ...


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None: ...

    def entries(self, entity: str = "", entity_id: str = "") -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the ``with`` block without :meth:`commit` rolls everything back."""

    tickets: TicketRepository
    agencies: AgencyRepository
    routing: RoutingRuleRepository
    audit: AuditLog

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class AttachmentStore(Protocol):
    def put_bytes(self, data: bytes) -> StoredBlob: ...

    def put_file(self, path: Path) -> StoredBlob: ...

    def read(self, sha256: str) -> bytes:
        """The content, verified against its hash."""
        ...

    def exists(self, sha256: str) -> bool: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass
class SystemClock:
    """The real clock, in the city's timezone."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))

    def now(self) -> datetime:
        return datetime.now(self.tz)
