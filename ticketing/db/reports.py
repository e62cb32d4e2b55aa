"""The report's figures, computed by the database: one aggregate query per table (``GROUP BY`` over
the indexed ``created_at``/``started_at`` ranges), no loops over ticket rows in Python. Names of
agencies, categories and wards are joined in afterwards from the few aggregated rows.

Cohort: the tickets *created* in the period (with the optional agency and category filters), in their
state at the time of the report; calls *started* in the period. "Overdue" is the ticket's stored flag
(set by the scheduler's sweep, kept after closing), so a ticket done late stays counted as late.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, select
from sqlalchemy.orm import Session

import reference
from ticketing.calls import Outcome
from ticketing.db.calls import CallRow
from ticketing.db.models import AgencyRow, TicketEventRow, TicketRow
from ticketing.domain.model import Status
from ticketing.reports.arithmetic import REPEAT_FLAG
from ticketing.reports.data import CallStats, GroupRow, RepeatIssue, Report, TicketStats
from ticketing.reports.periods import Period

Progress = Callable[[str], None]
STEPS = ("calls", "tickets", "reasons", "agencies", "categories", "wards", "repeats")

T = TicketRow.__table__.c
OPEN_WORK = (Status.IN_PROGRESS.value, Status.AWAITING_APPROVAL.value)


@dataclass(frozen=True)
class Filters:
    city: str = ""
    agency: str = ""
    category: str = ""


def _count(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _cohort(period: Period, f: Filters) -> list[ColumnElement[bool]]:
    cond = [T.created_at >= period.start, T.created_at < period.end]
    if f.city:
        cond.append(T.city == f.city)
    if f.agency:
        cond.append(T.lead_agency == f.agency)
    if f.category:
        cond.append(T.category == f.category)
    return cond


def _not_draft() -> ColumnElement[bool]:
    return T.status != Status.DRAFT.value


def _seconds_between(session: Session, a: Any, b: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(b) - func.julianday(a)) * 86400.0
    return func.extract("epoch", b - a)


def call_stats(session: Session, period: Period) -> CallStats:
    c = CallRow.__table__.c
    handled = c.outcome.in_((Outcome.AI_HANDLED.value, Outcome.TRANSFERRED.value))
    duration = _seconds_between(session, func.coalesce(c.answered_at, c.started_at), c.ended_at)
    row = session.execute(
        select(
            func.count(),
            _count(c.outcome == Outcome.AI_HANDLED.value),
            _count(c.outcome == Outcome.TRANSFERRED.value),
            _count(c.outcome == Outcome.ABANDONED.value),
            _count(c.outcome == Outcome.FAILED.value),
            func.avg(case((and_(handled, c.ended_at.is_not(None)), duration), else_=None)),
        ).where(c.started_at >= period.start, c.started_at < period.end)
    ).one()
    return CallStats(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        int(row[3]),
        int(row[4]),
        float(row[5]) if row[5] is not None else None,
    )


def _measures() -> tuple[Any, ...]:
    done = T.status == Status.DONE.value
    return (
        func.count(),
        _count(done),
        _count(T.status == Status.REJECTED.value),
        _count(and_(done, T.overdue.is_(False))),
        _count(T.overdue.is_(True)),
    )


def ticket_stats(session: Session, period: Period, f: Filters) -> TicketStats:
    cohort = _cohort(period, f)
    drafts = session.scalar(select(func.count()).where(*cohort, T.status == Status.DRAFT.value)) or 0
    row = session.execute(
        select(
            *_measures(),
            _count(T.status == Status.NEW.value),
            _count(T.dispatched_at.is_not(None)),
            _count(T.status == Status.DISPATCHED.value),
            _count(T.status.in_(OPEN_WORK)),
        ).where(*cohort, _not_draft())
    ).one()
    received, done, rejected, on_time, overdue, new, dispatched, awaiting, in_progress = (int(v) for v in row)
    return TicketStats(
        received=received,
        drafts=int(drafts),
        new=new,
        dispatched=dispatched,
        awaiting=awaiting,
        in_progress=in_progress,
        done=done,
        rejected=rejected,
        on_time=on_time,
        overdue=overdue,
    )


def overdue_reasons(session: Session, period: Period, f: Filters) -> tuple[tuple[str, int], ...]:
    transferred = exists().where(TicketEventRow.ticket_id == T.id, TicketEventRow.action == "transfer")
    reason = case(
        (T.dispatched_at.is_(None), literal("not_dispatched")),
        (transferred, literal("transferred")),
        (T.extensions > 0, literal("extended")),
        (T.status == Status.DONE.value, literal("done_late")),
        (T.status == Status.REJECTED.value, literal("rejected_late")),
        else_=literal("open"),
    ).label("reason")
    rows = session.execute(
        select(reason, func.count())
        .where(*_cohort(period, f), _not_draft(), T.overdue.is_(True))
        .group_by(reason)
        .order_by(func.count().desc(), reason)
    ).all()
    return tuple((str(r[0]), int(r[1])) for r in rows)


def _grouped(session: Session, period: Period, f: Filters, key: Any, name: Any = None) -> list[Any]:
    cols = [key.label("key"), (func.max(name) if name is not None else literal("")).label("name")]
    stmt = (
        select(*cols, *_measures())
        .where(*_cohort(period, f), _not_draft())
        .group_by(key)
        .order_by(func.count().desc(), key)
    )
    return list(session.execute(stmt).all())


def _group_rows(rows: list[Any], names: dict[str, str]) -> tuple[GroupRow, ...]:
    return tuple(
        GroupRow(
            key=str(r[0] or ""),
            name=names.get(str(r[0] or ""), "") or str(r[1] or "") or "(chưa xác định)",
            received=int(r[2]),
            done=int(r[3]),
            rejected=int(r[4]),
            on_time=int(r[5]),
            overdue=int(r[6]),
        )
        for r in rows
    )


def by_agency(session: Session, period: Period, f: Filters) -> tuple[GroupRow, ...]:
    rows = _grouped(session, period, f, T.lead_agency)
    codes = [str(r[0]) for r in rows if r[0]]
    names: dict[str, str] = {}
    if codes:
        names = {
            code: name
            for code, name in session.execute(
                select(AgencyRow.code, AgencyRow.name).where(AgencyRow.code.in_(codes))
            )
        }
    return _group_rows(rows, names)


def by_category(session: Session, period: Period, f: Filters) -> tuple[GroupRow, ...]:
    names = {code: c.name for code, c in reference.categories().items()}
    return _group_rows(_grouped(session, period, f, T.category), names)


def by_ward(session: Session, period: Period, f: Filters) -> tuple[GroupRow, ...]:
    return _group_rows(_grouped(session, period, f, T.ward_code, T.ward_name), {})


def repeated_issues(session: Session, period: Period, f: Filters) -> tuple[RepeatIssue, ...]:
    """HN Art. 12.7: the same issue reported >= 5 times without resolution, found two ways: tickets
    linked as duplicates of one original, and tickets of one category, ward and address."""
    unresolved = _count(T.status.not_in((Status.DONE.value, Status.REJECTED.value)))
    root = case((T.duplicate_of != "", T.duplicate_of), else_=T.code)
    dup_rows = session.execute(
        select(root.label("root"), func.max(T.category), func.max(T.ward_name), func.count())
        .where(*_cohort(period, f), _not_draft())
        .group_by(root)
        .having(func.count() >= REPEAT_FLAG)
    ).all()
    out: list[RepeatIssue] = []
    if dup_rows:
        roots = [str(r[0]) for r in dup_rows]
        status = dict(
            session.execute(select(TicketRow.code, TicketRow.status).where(TicketRow.code.in_(roots))).all()
        )
        for r in dup_rows:
            original_open = status.get(str(r[0])) not in (Status.DONE.value, Status.REJECTED.value)
            if original_open:
                out.append(RepeatIssue("duplicates", str(r[1]), str(r[2]), str(r[0]), int(r[3]), int(r[3])))
    where = func.lower(func.trim(T.place_address))
    place_rows = session.execute(
        select(T.category, T.ward_code, func.max(T.ward_name), where.label("where"), func.count(), unresolved)
        .where(*_cohort(period, f), _not_draft(), T.place_address != "")
        .group_by(T.category, T.ward_code, where)
        .having(func.count() >= REPEAT_FLAG, _count(T.status == Status.DONE.value) == 0)
        .order_by(func.count().desc())
    ).all()
    for r in place_rows:
        out.append(RepeatIssue("place", str(r[0]), str(r[2] or r[1]), str(r[3]), int(r[4]), int(r[5])))
    return tuple(out)


def compute(
    session: Session,
    period: Period,
    filters: Filters,
    now: datetime,
    progress: Progress | None = None,
) -> Report:
    """Every figure of the report; ``progress`` is told each step's name as it finishes."""

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    calls = call_stats(session, period)
    step("calls")
    tickets = ticket_stats(session, period, filters)
    step("tickets")
    reasons = overdue_reasons(session, period, filters)
    step("reasons")
    agencies = by_agency(session, period, filters)
    step("agencies")
    categories = by_category(session, period, filters)
    step("categories")
    wards = by_ward(session, period, filters)
    step("wards")
    repeats = repeated_issues(session, period, filters)
    step("repeats")
    notes = ["Cuộc gọi: toàn bộ cuộc gọi đến tổng đài trong kỳ (không lọc theo đơn vị, lĩnh vực)."]
    return Report(
        period=period,
        city=filters.city,
        agency=filters.agency,
        category=filters.category,
        generated_at=now,
        calls=calls,
        tickets=tickets,
        reasons=reasons,
        by_agency=agencies,
        by_category=categories,
        by_ward=wards,
        repeats=repeats,
        notes=tuple(notes),
    )
