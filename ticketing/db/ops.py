"""Database facts for operations (:mod:`ops`): the grouped counts behind the metrics, a readiness
ping, URL helpers for the PostgreSQL client tools, and whether a database is empty.

The queries live here so that SQLAlchemy stays inside ``ticketing/db``; :mod:`ops.metrics` turns a
:class:`Snapshot` into Prometheus metric families.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, case, func, inspect, or_, select, text
from sqlalchemy.engine import make_url

from ticketing.db.calls import CallRow
from ticketing.db.leases import LeaseRow
from ticketing.db.models import TicketEventRow, TicketRow
from ticketing.db.outbox import OutboxRow
from ticketing.domain.model import Status


@dataclass(frozen=True)
class CallGroup:
    outcome: str | None  # None while the call is in progress
    source: str
    count: int
    with_ticket: int  # records naming a ticket
    kept: int  # records naming a ticket or a draft


@dataclass
class Snapshot:
    calls: list[CallGroup] = field(default_factory=list)
    tickets: list[tuple[str, str, int]] = field(default_factory=list)  # status, lead agency, count
    overdue: list[tuple[str, int]] = field(default_factory=list)  # lead agency, open tickets past due
    escalated_open: int = 0
    escalations: int = 0  # escalation events recorded in ticket histories
    outbox: dict[str, tuple[int, int]] = field(default_factory=dict)  # status -> (count, retried)
    lease_holder: str | None = None  # the holder of the lease, if it has not expired


def snapshot(engine: Engine, lease_name: str, now: datetime | None = None) -> Snapshot:
    """The grouped counts of one scrape, in one connection (a handful of aggregate queries)."""
    now = now or datetime.now(UTC)
    closed = [Status.DONE.value, Status.REJECTED.value]
    out = Snapshot()
    with engine.connect() as conn:
        with_ticket = func.coalesce(func.sum(case((CallRow.ticket_code != "", 1), else_=0)), 0)
        kept = or_(CallRow.ticket_code != "", CallRow.draft_id != "")
        with_kept = func.coalesce(func.sum(case((kept, 1), else_=0)), 0)
        for outcome, source, n, n_ticket, n_kept in conn.execute(
            select(CallRow.outcome, CallRow.source, func.count(), with_ticket, with_kept).group_by(
                CallRow.outcome, CallRow.source
            )
        ):
            out.calls.append(CallGroup(outcome, source, int(n), int(n_ticket), int(n_kept)))
        out.tickets = [
            (str(status), str(agency or ""), int(n))
            for status, agency, n in conn.execute(
                select(TicketRow.status, TicketRow.lead_agency, func.count()).group_by(
                    TicketRow.status, TicketRow.lead_agency
                )
            )
        ]
        out.overdue = [
            (str(agency or ""), int(n))
            for agency, n in conn.execute(
                select(TicketRow.lead_agency, func.count())
                .where(TicketRow.overdue.is_(True), TicketRow.status.not_in(closed))
                .group_by(TicketRow.lead_agency)
            )
        ]
        out.escalated_open = int(
            conn.execute(
                select(func.count()).where(TicketRow.escalation_level > 0, TicketRow.status.not_in(closed))
            ).scalar_one()
        )
        out.escalations = int(
            conn.execute(
                select(func.count()).select_from(TicketEventRow).where(TicketEventRow.action == "escalate")
            ).scalar_one()
        )
        retried = func.coalesce(func.sum(case((OutboxRow.attempts > 0, 1), else_=0)), 0)
        out.outbox = {
            str(status): (int(n), int(r))
            for status, n, r in conn.execute(
                select(OutboxRow.status, func.count(), retried).group_by(OutboxRow.status)
            )
        }
        lease = conn.execute(
            select(LeaseRow.holder, LeaseRow.expires_at).where(LeaseRow.name == lease_name)
        ).one_or_none()
    if lease is not None:
        expires = lease[1] if lease[1].tzinfo is not None else lease[1].replace(tzinfo=UTC)
        out.lease_holder = str(lease[0]) if expires >= now else None
    return out


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query (raises when it does not)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return True


def redacted_url(url: str) -> str:
    """The URL with its password hidden (safe to print or store)."""
    return make_url(url).render_as_string(hide_password=True)


def backend_name(url: str) -> str:
    return make_url(url).get_backend_name()


def libpq_url(url: str) -> tuple[str, str | None]:
    """A libpq URL for pg_dump/pg_restore without the password, and the password (for PGPASSWORD)."""
    parsed = make_url(url)
    password = str(parsed.password) if parsed.password is not None else None
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), password


def url_host(url: str) -> str:
    return make_url(url).host or ""


def has_tables(url: str) -> bool:
    from ticketing.db.engine import make_engine

    engine = make_engine(url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def engine_for(url: str) -> Any:
    """An engine for operations code that only hands it back to functions of this module."""
    from ticketing.db.engine import make_engine

    return make_engine(url)
