"""SLA presets and the deadline rules of a ticket: dispatch, handling, escalation ladder, extension.

Presets are configuration (shipped in ``ticketing/data/sla_presets.toml``, read by
:mod:`ticketing.calendar_config`); this module holds the pure rules, functions of (ticket, now,
calendar, preset):

* Hanoi (HN Art. 8, 9.4-9.5, 9.7): dispatch within 8 working hours of creation; handling counted from
  the assignment (``dispatched_at``): urgent 4 wh, normal 7 wd, complex 15 wd, one extension of a complex
  ticket up to 30 wd in total; a missed deadline flags the ticket overdue, reported upward.
* 1022 ladder (CT Art. 9, HP Art. 9.3-9.4): the agency's focal officer has 8 wh, then the ticket
  escalates to the head of the agency with 48 wh, then it is overdue and reported to city leadership;
  one postponement (hẹn lại) of at most 10 wd.

Escalation levels index the ladder: level 0 is the handler of the first stage; level ``i`` is
``preset.escalation[i - 1]``. :func:`next_escalation_step` returns the next level that has fallen due;
a caller applies it (sets ``ticket.escalation_level``, notifies, flags overdue) and asks again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ticketing.domain.calendar import WorkingCalendar, deadline, working_days, working_time_between
from ticketing.domain.errors import DomainError
from ticketing.domain.model import Priority, Status, Ticket

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|d|wh|wd)\s*$")


class SlaError(DomainError):
    """A deadline rule refuses an operation (e.g. an extension over the cap); "Vietnamese / English"."""


class Role(StrEnum):
    """Who holds a ticket at a step of the ladder; the value is the Vietnamese title."""

    ROUTING_OFFICER = "Cán bộ phân luồng"
    AGENCY = "Cơ quan xử lý"
    FOCAL_OFFICER = "Cán bộ đầu mối"
    HEAD = "Thủ trưởng đơn vị"
    COMPETENT_AUTHORITY = "Cấp có thẩm quyền"
    CITY_LEADERSHIP = "Lãnh đạo thành phố"


def parse_working_duration(text: str) -> timedelta:
    """``"8h"``/``"8wh"`` = 8 working hours, ``"7d"``/``"7wd"`` = 7 working days (= 56 working hours)."""
    m = _DURATION_RE.match(text)
    if not m:
        raise ValueError(f"malformed working duration {text!r}; expected e.g. '8h' or '7d'")
    value = float(m.group(1))
    return working_days(value) if m.group(2) in ("d", "wd") else timedelta(hours=value)


@dataclass(frozen=True)
class LadderStep:
    """A rung after the first handling stage: who takes over, for how long; ``duration`` None = last."""

    who: Role
    duration: timedelta | None = None
    overdue: bool = False  # reaching this rung flags the ticket "Quá hạn"


@dataclass(frozen=True)
class ExtensionRule:
    max_count: int = 1
    priorities: frozenset[Priority] = frozenset(Priority)
    max_each: timedelta | None = None  # cap of one extension (1022: 10 wd)
    max_total: timedelta | None = None  # cap of base + extensions from the assignment (Hanoi: 30 wd)


@dataclass(frozen=True)
class SlaPreset:
    name: str
    title: str
    handler: Role  # who holds the ticket during the first handling stage (level 0)
    handling: Mapping[Priority, timedelta] = field(hash=False)
    escalation: tuple[LadderStep, ...]
    extension: ExtensionRule
    dispatch: timedelta | None = None  # from creation to dispatch; None: no regulated dispatch deadline
    source: str = ""

    def __post_init__(self) -> None:
        missing = set(Priority) - set(self.handling)
        if missing:
            raise ValueError(f"SLA preset {self.name!r} has no handling time for {sorted(missing)}")
        if not self.escalation or not any(step.overdue for step in self.escalation):
            raise ValueError(f"SLA preset {self.name!r} needs an escalation step that flags overdue")
        if any(step.duration is None for step in self.escalation[:-1]):
            raise ValueError(f"SLA preset {self.name!r}: only the last escalation step may lack a duration")


@dataclass(frozen=True)
class EscalationStep:
    """A rung that has fallen due: ``at`` is when it started, ``until`` the new holder's deadline."""

    level: int
    who: Role
    at: datetime
    until: datetime | None
    overdue: bool


@dataclass(frozen=True)
class OverdueStatus:
    overdue: bool
    reason: str = ""
    due: datetime | None = None

    def __bool__(self) -> bool:
        return self.overdue


@dataclass(frozen=True)
class InitialDeadlines:
    dispatch_due: datetime | None


def initial_deadlines(
    priority: Priority, created_at: datetime, calendar: WorkingCalendar, preset: SlaPreset
) -> InitialDeadlines:
    """Deadlines set when a ticket is created: the dispatch deadline (None if the preset has none).

    ``priority`` is accepted so presets may later vary the dispatch time by priority.
    """
    del priority
    if preset.dispatch is None:
        return InitialDeadlines(dispatch_due=None)
    return InitialDeadlines(dispatch_due=deadline(created_at, preset.dispatch, calendar))


def handling_due(
    priority: Priority, assigned_at: datetime, calendar: WorkingCalendar, preset: SlaPreset
) -> datetime:
    """Deadline of the first handling stage, counted from the assignment (dispatch) to the agency."""
    return deadline(assigned_at, preset.handling[priority], calendar)


def _assigned_at(ticket: Ticket) -> datetime | None:
    return ticket.dispatched_at or ticket.accepted_at


def _current_due(ticket: Ticket, calendar: WorkingCalendar, preset: SlaPreset) -> datetime | None:
    if ticket.due_at is not None:
        return ticket.due_at
    assigned = _assigned_at(ticket)
    if assigned is None:
        return None
    return handling_due(ticket.priority, assigned, calendar, preset)


def _dispatch_due(ticket: Ticket, calendar: WorkingCalendar, preset: SlaPreset) -> datetime | None:
    if ticket.dispatch_due is not None:
        return ticket.dispatch_due
    return initial_deadlines(ticket.priority, ticket.created_at, calendar, preset).dispatch_due


def _evaluation_time(ticket: Ticket, now: datetime) -> datetime:
    # A closed ticket is judged at its closing time: it stays "done late" when it was.
    if ticket.status.is_closed and ticket.closed_at is not None:
        return min(now, ticket.closed_at)
    return now


def ladder(ticket: Ticket, calendar: WorkingCalendar, preset: SlaPreset) -> list[EscalationStep]:
    """Every rung after the first handling stage with its start and deadline; empty before dispatch."""
    due = _current_due(ticket, calendar, preset)
    if due is None:
        return []
    steps: list[EscalationStep] = []
    at = due
    for i, step in enumerate(preset.escalation, start=1):
        until = deadline(at, step.duration, calendar) if step.duration is not None else None
        steps.append(EscalationStep(i, step.who, at, until, step.overdue))
        if until is None:
            break
        at = until
    return steps


def is_overdue(ticket: Ticket, now: datetime, calendar: WorkingCalendar, preset: SlaPreset) -> OverdueStatus:
    """Whether the ticket is (or, once closed, was) past its deadline, with the reason.

    Not yet dispatched: overdue after the dispatch deadline. Dispatched: overdue once the first ladder
    rung flagged ``overdue`` has started (Hanoi: when the handling deadline passes; 1022: when the
    head's 48 working hours pass). A deadline is passed strictly after its instant.
    """
    if ticket.status is Status.DRAFT:
        return OverdueStatus(False)
    at = _evaluation_time(ticket, now)
    if _assigned_at(ticket) is None:
        if ticket.status.is_closed:
            return OverdueStatus(False)
        dispatch_due = _dispatch_due(ticket, calendar, preset)
        if dispatch_due is not None and at > dispatch_due:
            hours = _hours(preset.dispatch)
            return OverdueStatus(
                True,
                f"Chưa chuyển xử lý trong {hours} giờ làm việc / not dispatched within {hours} working hours",
                dispatch_due,
            )
        return OverdueStatus(False, due=dispatch_due)
    for step in ladder(ticket, calendar, preset):
        if step.overdue:
            if at > step.at:
                return OverdueStatus(True, _overdue_reason(ticket, step, preset), step.at)
            return OverdueStatus(False, due=step.at)
    return OverdueStatus(False)  # pragma: no cover - presets always have an overdue step


def _hours(d: timedelta | None) -> str:
    return f"{(d or timedelta()) / timedelta(hours=1):g}"


def _overdue_reason(ticket: Ticket, step: EscalationStep, preset: SlaPreset) -> str:
    due = f"{step.at:%H:%M %d/%m/%Y}"
    if step.level == 1:
        return (
            f"{preset.handler} chưa xử lý xong trước hạn {due}; báo cáo {step.who.lower()} / "
            f"handling deadline {step.at.isoformat()} passed; reported to {_english(step.who)}"
        )
    previous = preset.escalation[step.level - 2].who
    return (
        f"{previous} chưa xử lý xong trước hạn {due}; báo cáo {step.who.lower()} / "
        f"{_english(previous)}'s deadline {step.at.isoformat()} passed; reported to {_english(step.who)}"
    )


_ENGLISH = {
    Role.ROUTING_OFFICER: "the routing officer",
    Role.AGENCY: "the agency",
    Role.FOCAL_OFFICER: "the focal officer",
    Role.HEAD: "the head of the agency",
    Role.COMPETENT_AUTHORITY: "the competent authority",
    Role.CITY_LEADERSHIP: "city leadership",
}


def _english(role: Role) -> str:
    return _ENGLISH[role]


def next_escalation_step(
    ticket: Ticket, now: datetime, calendar: WorkingCalendar, preset: SlaPreset
) -> EscalationStep | None:
    """The next rung above ``ticket.escalation_level`` whose start has passed, or None.

    Closed and draft tickets never escalate; an undispatched ticket escalates only through the
    overdue flag of :func:`is_overdue`.
    """
    if ticket.status.is_closed or ticket.status is Status.DRAFT:
        return None
    for step in ladder(ticket, calendar, preset):
        if step.level > ticket.escalation_level:
            return step if now > step.at else None
    return None


def extension_due(
    ticket: Ticket, working_days_requested: int, calendar: WorkingCalendar, preset: SlaPreset
) -> datetime:
    """New handling deadline after extending by ``working_days_requested`` working days.

    The extension adds to the current deadline. Refused (:class:`SlaError`) when the ticket is closed or
    not yet assigned, when the preset allows no (further) extension or not for this priority, or when a
    cap would be exceeded.
    """
    rule = preset.extension
    if isinstance(working_days_requested, bool) or not isinstance(working_days_requested, int):
        raise SlaError("Số ngày gia hạn phải là số nguyên / the extension must be a whole number of days")
    if working_days_requested < 1:
        raise SlaError("Số ngày gia hạn phải lớn hơn 0 / the extension must be at least 1 working day")
    if ticket.status.is_closed:
        raise SlaError("Phiếu đã đóng, không thể gia hạn / the ticket is closed and cannot be extended")
    assigned = _assigned_at(ticket)
    current = _current_due(ticket, calendar, preset)
    if assigned is None or current is None:
        raise SlaError(
            "Phiếu chưa được chuyển xử lý, không thể gia hạn / "
            "the ticket is not assigned yet; nothing to extend"
        )
    if ticket.priority not in rule.priorities:
        allowed = ", ".join(sorted(p.value for p in rule.priorities)) or "-"
        raise SlaError(
            f"Chỉ gia hạn được phiếu mức độ: {allowed} / only tickets of priority {allowed} can be extended"
        )
    if ticket.extensions >= rule.max_count:
        raise SlaError(
            f"Phiếu đã được gia hạn {ticket.extensions} lần, tối đa {rule.max_count} / "
            f"already extended {ticket.extensions} time(s); at most {rule.max_count} allowed"
        )
    extra = working_days(working_days_requested)
    if rule.max_each is not None and extra > rule.max_each:
        cap = _days(rule.max_each)
        raise SlaError(
            f"Mỗi lần gia hạn không quá {cap} ngày làm việc / an extension may not exceed {cap} working days"
        )
    new_due = deadline(current, extra, calendar)
    if rule.max_total is not None and working_time_between(assigned, new_due, calendar) > rule.max_total:
        cap = _days(rule.max_total)
        raise SlaError(
            f"Tổng thời gian xử lý không quá {cap} ngày làm việc kể từ khi giao xử lý / "
            f"total handling time may not exceed {cap} working days from the assignment"
        )
    return new_due


def _days(d: timedelta) -> str:
    return f"{d / working_days(1):g}"
