"""SLA presets (Hanoi; the 1022 ladder of Cần Thơ / Hải Phòng): deadlines, overdue, escalation, extension."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from ticketing.calendar_config import (
    CalendarConfigError,
    build_calendar,
    parse_preset,
    preset_for,
    shipped_days,
    sla_presets,
)
from ticketing.domain.calendar import DEFAULT_SESSIONS, deadline, working_days, working_hours
from ticketing.domain.errors import DomainError
from ticketing.domain.model import Caller, Channel, Kind, Place, Priority, Status, Ticket
from ticketing.domain.sla import (
    Role,
    SlaError,
    extension_due,
    handling_due,
    initial_deadlines,
    is_overdue,
    ladder,
    next_escalation_step,
    parse_working_duration,
)

CAL = build_calendar(shipped_days(), DEFAULT_SESSIONS)
VN = CAL.tz
HANOI = sla_presets()["hanoi"]
LADDER = sla_presets()["ladder_1022"]


def vn(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def ticket(**overrides: Any) -> Ticket:
    values: dict[str, Any] = dict(
        code="000000018",
        channel=Channel.PHONE,
        kind=Kind.FIELD_REPORT,
        category="VSMT",
        priority=Priority.NORMAL,
        caller=Caller(name="Nguyễn Văn An", phone="0912345678"),
        place=Place(ward_code="00070", ward_name="Phường Hoàn Kiếm", city="hanoi"),
        content="Rác thải tồn đọng ở đầu ngõ.",
        created_at=vn("2026-11-20T16:00"),
        created_by="ai-bot",
    )
    values.update(overrides)
    return Ticket(**values)


def dispatched(at: str = "2026-11-23T08:00", preset: Any = HANOI, **overrides: Any) -> Ticket:
    t = ticket(status=Status.DISPATCHED, dispatched_at=vn(at), **overrides)
    t.due_at = handling_due(t.priority, vn(at), CAL, preset)
    return t


# --- presets as configuration --------------------------------------------------------------------------


def test_shipped_presets_hold_the_regulated_numbers() -> None:
    assert HANOI.dispatch == working_hours(8)
    assert HANOI.handling == {
        Priority.URGENT: working_hours(4),
        Priority.NORMAL: working_days(7),
        Priority.COMPLEX: working_days(15),
    }
    assert HANOI.extension.max_count == 1
    assert HANOI.extension.priorities == {Priority.COMPLEX}
    assert HANOI.extension.max_total == working_days(30)
    assert LADDER.dispatch is None
    assert set(LADDER.handling.values()) == {working_hours(8)}
    assert [(s.who, s.duration, s.overdue) for s in LADDER.escalation] == [
        (Role.HEAD, working_hours(48), False),
        (Role.CITY_LEADERSHIP, None, True),
    ]
    assert LADDER.extension.max_each == working_days(10)


def test_presets_are_selected_by_city() -> None:
    assert preset_for("hanoi") is HANOI
    assert preset_for("cantho") is LADDER
    assert preset_for("haiphong") is LADDER
    with pytest.raises(CalendarConfigError, match="unknown city"):
        preset_for("hue")


def test_parse_working_duration() -> None:
    assert parse_working_duration("8h") == working_hours(8)
    assert parse_working_duration("48wh") == working_hours(48)
    assert parse_working_duration("7d") == working_hours(56)
    assert parse_working_duration("0.5d") == working_hours(4)
    for bad in ("8", "h", "-1h", "7 days"):
        with pytest.raises(ValueError):
            parse_working_duration(bad)


def test_malformed_presets_are_refused() -> None:
    base = {
        "handler": "agency",
        "handling": {"urgent": "4h", "normal": "7d", "complex": "15d"},
        "escalation": [{"who": "competent_authority", "overdue": True}],
    }
    assert parse_preset("ok", base).handler is Role.AGENCY
    with pytest.raises(CalendarConfigError, match="unknown role"):
        parse_preset("x", {**base, "handler": "mayor"})
    with pytest.raises(CalendarConfigError, match="no handling time"):
        parse_preset("x", {**base, "handling": {"urgent": "4h"}})
    with pytest.raises(CalendarConfigError, match="overdue"):
        parse_preset("x", {**base, "escalation": [{"who": "head", "duration": "48h"}]})
    with pytest.raises(CalendarConfigError, match="malformed working duration"):
        parse_preset("x", {**base, "dispatch": "eight hours"})
    with pytest.raises(CalendarConfigError, match="only the last"):
        steps = [{"who": "head"}, {"who": "city_leadership", "overdue": True}]
        parse_preset("x", {**base, "escalation": steps})


# --- Hanoi ---------------------------------------------------------------------------------------------


def test_hanoi_dispatch_within_eight_working_hours() -> None:
    # Friday 16:00 + 8 wh: 1 h on Friday, 4 h Monday morning, 3 h Monday afternoon.
    got = initial_deadlines(Priority.NORMAL, vn("2026-11-20T16:00"), CAL, HANOI)
    assert got.dispatch_due == vn("2026-11-23T16:00")
    assert initial_deadlines(Priority.URGENT, vn("2026-11-20T16:00"), CAL, LADDER).dispatch_due is None


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        (Priority.URGENT, "2026-11-23T12:00"),
        (Priority.NORMAL, "2026-12-01T17:00"),  # 24/11 (Culture Day) counts: not a confirmed day off
        (Priority.COMPLEX, "2026-12-11T17:00"),
    ],
)
def test_hanoi_handling_times(priority: Priority, expected: str) -> None:
    assert handling_due(priority, vn("2026-11-23T08:00"), CAL, HANOI) == vn(expected)


def test_hanoi_handling_across_tet() -> None:
    # Urgent report assigned on the last afternoon before Tết 2026.
    assert handling_due(Priority.URGENT, vn("2026-02-13T15:00"), CAL, HANOI) == vn("2026-02-23T10:00")


def test_hanoi_not_dispatched_in_time_is_overdue() -> None:
    t = ticket(dispatch_due=vn("2026-11-23T16:00"))
    assert not is_overdue(t, vn("2026-11-23T16:00"), CAL, HANOI)  # at the instant: not yet
    late = is_overdue(t, vn("2026-11-23T16:00:01"), CAL, HANOI)
    assert late and late.due == vn("2026-11-23T16:00")
    assert "not dispatched within 8 working hours" in late.reason
    assert "Chưa chuyển xử lý" in late.reason


def test_dispatch_due_is_computed_when_not_stored() -> None:
    t = ticket()
    assert not is_overdue(t, vn("2026-11-23T15:59"), CAL, HANOI)
    assert is_overdue(t, vn("2026-11-23T16:01"), CAL, HANOI)
    assert not is_overdue(t, vn("2026-12-31T10:00"), CAL, LADDER)  # 1022: no dispatch deadline


def test_hanoi_handling_deadline_passed_is_overdue_and_escalates_once() -> None:
    t = dispatched(priority=Priority.URGENT)
    assert t.due_at == vn("2026-11-23T12:00")
    assert next_escalation_step(t, vn("2026-11-23T12:00"), CAL, HANOI) is None
    assert not is_overdue(t, vn("2026-11-23T12:00"), CAL, HANOI)
    # 12:30 is the lunch break, but the deadline instant has passed.
    status = is_overdue(t, vn("2026-11-23T12:30"), CAL, HANOI)
    assert status and "competent authority" in status.reason and "Cấp có thẩm quyền".lower() in status.reason
    step = next_escalation_step(t, vn("2026-11-23T12:30"), CAL, HANOI)
    assert step is not None
    assert (step.level, step.who, step.at, step.until, step.overdue) == (
        1,
        Role.COMPETENT_AUTHORITY,
        vn("2026-11-23T12:00"),
        None,
        True,
    )
    t.escalation_level = 1
    assert next_escalation_step(t, vn("2026-12-31T12:30"), CAL, HANOI) is None


def test_handling_due_is_computed_from_the_assignment_when_not_stored() -> None:
    t = ticket(status=Status.IN_PROGRESS, dispatched_at=vn("2026-11-23T08:00"), priority=Priority.URGENT)
    assert is_overdue(t, vn("2026-11-23T12:01"), CAL, HANOI)
    assert not is_overdue(t, vn("2026-11-23T11:59"), CAL, HANOI)


def test_closed_tickets_are_judged_at_closing_time_and_never_escalate() -> None:
    on_time = dispatched(priority=Priority.URGENT, closed_at=vn("2026-11-23T11:00"))
    on_time.status = Status.DONE
    assert not is_overdue(on_time, vn("2027-01-01T09:00"), CAL, HANOI)
    assert next_escalation_step(on_time, vn("2027-01-01T09:00"), CAL, HANOI) is None
    late = dispatched(priority=Priority.URGENT)
    late.status, late.closed_at = Status.DONE, vn("2026-11-23T14:00")
    assert is_overdue(late, vn("2027-01-01T09:00"), CAL, HANOI)
    assert next_escalation_step(late, vn("2027-01-01T09:00"), CAL, HANOI) is None
    rejected_early = ticket(status=Status.REJECTED, closed_at=vn("2026-11-21T09:00"))
    assert not is_overdue(rejected_early, vn("2027-01-01T09:00"), CAL, HANOI)


def test_drafts_have_no_deadline() -> None:
    t = ticket(status=Status.DRAFT)
    assert not is_overdue(t, vn("2027-01-01T09:00"), CAL, HANOI)
    assert next_escalation_step(t, vn("2027-01-01T09:00"), CAL, HANOI) is None


# --- the 1022 ladder -----------------------------------------------------------------------------------


def test_1022_ladder_focal_officer_then_head_then_city_leadership() -> None:
    t = dispatched(preset=LADDER, city="cantho")
    focal_due = vn("2026-11-23T17:00")  # 8 working hours
    head_due = vn("2026-12-01T17:00")  # then 48 working hours = 6 working days
    assert t.due_at == focal_due
    steps = ladder(t, CAL, LADDER)
    assert [(s.level, s.who, s.at, s.until, s.overdue) for s in steps] == [
        (1, Role.HEAD, focal_due, head_due, False),
        (2, Role.CITY_LEADERSHIP, head_due, None, True),
    ]
    assert next_escalation_step(t, vn("2026-11-23T16:00"), CAL, LADDER) is None
    # The focal officer missed the 8 hours: the head takes over, not overdue yet.
    step = next_escalation_step(t, vn("2026-11-24T09:00"), CAL, LADDER)
    assert step is not None and step.level == 1 and step.who is Role.HEAD and step.until == head_due
    status = is_overdue(t, vn("2026-11-24T09:00"), CAL, LADDER)
    assert not status and status.due == head_due
    t.escalation_level = 1
    assert next_escalation_step(t, vn("2026-12-01T17:00"), CAL, LADDER) is None
    # The head missed the 48 hours: overdue, reported to city leadership.
    step = next_escalation_step(t, vn("2026-12-02T08:30"), CAL, LADDER)
    assert step is not None and (step.level, step.who, step.overdue) == (2, Role.CITY_LEADERSHIP, True)
    status = is_overdue(t, vn("2026-12-02T08:30"), CAL, LADDER)
    assert status and "head of the agency" in status.reason and "city leadership" in status.reason
    t.escalation_level = 2
    assert next_escalation_step(t, vn("2027-06-01T08:30"), CAL, LADDER) is None


def test_1022_missed_steps_come_one_at_a_time() -> None:
    t = dispatched(preset=LADDER)
    first = next_escalation_step(t, vn("2027-01-15T09:00"), CAL, LADDER)
    assert first is not None and first.level == 1
    t.escalation_level = first.level
    second = next_escalation_step(t, vn("2027-01-15T09:00"), CAL, LADDER)
    assert second is not None and second.level == 2


def test_1022_same_ladder_for_every_priority() -> None:
    for priority in Priority:
        assert handling_due(priority, vn("2026-11-23T08:00"), CAL, LADDER) == vn("2026-11-23T17:00")


def test_1022_not_dispatched_has_no_ladder() -> None:
    assert ladder(ticket(), CAL, LADDER) == []
    assert next_escalation_step(ticket(), vn("2027-01-15T09:00"), CAL, LADDER) is None


# --- extension -----------------------------------------------------------------------------------------


def test_hanoi_complex_extension_up_to_thirty_working_days() -> None:
    t = dispatched(priority=Priority.COMPLEX)
    assert t.due_at == vn("2026-12-11T17:00")
    new_due = extension_due(t, 15, CAL, HANOI)
    assert new_due == deadline(vn("2026-11-23T08:00"), working_days(30), CAL)
    assert new_due == vn("2027-01-04T17:00")  # 01/01/2027 is a holiday
    assert extension_due(t, 5, CAL, HANOI) == deadline(t.due_at, working_days(5), CAL)
    with pytest.raises(SlaError, match="30 working days"):
        extension_due(t, 16, CAL, HANOI)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"priority": Priority.NORMAL}, "only tickets of priority complex"),
        ({"priority": Priority.URGENT}, "only tickets of priority complex"),
        ({"extensions": 1}, "at most 1 allowed"),
        ({"status": Status.DONE}, "closed"),
        ({"status": Status.REJECTED}, "closed"),
    ],
)
def test_hanoi_extension_refusals(changes: dict[str, Any], message: str) -> None:
    t = dispatched(priority=Priority.COMPLEX)
    for key, value in changes.items():
        setattr(t, key, value)
    if "priority" in changes:
        t.due_at = handling_due(t.priority, vn("2026-11-23T08:00"), CAL, HANOI)
    with pytest.raises(SlaError, match=message) as info:
        extension_due(t, 3, CAL, HANOI)
    assert isinstance(info.value, DomainError)
    assert " / " in str(info.value) and "\n" not in str(info.value)


def test_extension_needs_an_assigned_ticket_and_a_positive_whole_number() -> None:
    with pytest.raises(SlaError, match="not assigned"):
        extension_due(ticket(priority=Priority.COMPLEX), 3, CAL, HANOI)
    t = dispatched(priority=Priority.COMPLEX)
    for bad in (0, -2):
        with pytest.raises(SlaError, match="at least 1"):
            extension_due(t, bad, CAL, HANOI)
    for wrong in (1.5, True, "3"):
        with pytest.raises(SlaError, match="whole number"):
            extension_due(t, wrong, CAL, HANOI)  # type: ignore[arg-type]


def test_1022_one_postponement_of_at_most_ten_working_days() -> None:
    t = dispatched(preset=LADDER, priority=Priority.NORMAL)
    assert extension_due(t, 10, CAL, LADDER) == vn("2026-12-07T17:00")
    with pytest.raises(SlaError, match="10 working days"):
        extension_due(t, 11, CAL, LADDER)
    t.extensions = 1
    with pytest.raises(SlaError, match="already extended 1"):
        extension_due(t, 2, CAL, LADDER)


def test_postponement_moves_the_whole_ladder() -> None:
    t = dispatched(preset=LADDER)
    t.due_at, t.extensions = extension_due(t, 10, CAL, LADDER), 1
    assert next_escalation_step(t, vn("2026-12-07T16:59"), CAL, LADDER) is None
    step = next_escalation_step(t, vn("2026-12-08T08:00"), CAL, LADDER)
    assert step is not None and step.who is Role.HEAD and step.at == vn("2026-12-07T17:00")
