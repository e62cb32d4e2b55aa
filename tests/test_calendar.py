"""Unit tests of the working calendar: office sessions, days off, make-up Saturdays, deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from ticketing.calendar_config import build_calendar, shipped_days
from ticketing.domain.calendar import (
    DEFAULT_SESSIONS,
    WorkingCalendar,
    deadline,
    is_working_time,
    next_opening,
    parse_sessions,
    statutory_days,
    working_days,
    working_hours,
    working_time_between,
)

CAL = build_calendar(shipped_days(), DEFAULT_SESSIONS)
VN = CAL.tz


def vn(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def due(start: str, duration: timedelta, cal: WorkingCalendar = CAL) -> str:
    return deadline(vn(start), duration, cal).isoformat()


# --- the CLI contract example and the basic rules ------------------------------------------------------


def test_contract_example_friday_afternoon_plus_four_hours_is_monday_eleven() -> None:
    start = datetime.fromisoformat("2026-11-20T16:00+07:00")
    assert start.weekday() == 4  # a Friday
    assert deadline(start, working_hours(4), CAL).isoformat() == "2026-11-23T11:00:00+07:00"


def test_working_days_are_eight_working_hours() -> None:
    assert working_days(1) == timedelta(hours=8)
    assert working_days(7) == timedelta(hours=56)
    assert working_days(0.5) == timedelta(hours=4)
    assert working_hours(48) == working_days(6)
    assert CAL.day_length == timedelta(hours=8)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        ("2026-11-23T09:00", 2, "2026-11-23T11:00:00+07:00"),  # inside the morning session
        ("2026-11-23T11:00", 2, "2026-11-23T14:00:00+07:00"),  # lunch break skipped
        ("2026-11-23T11:15", 0.75, "2026-11-23T12:00:00+07:00"),  # ends exactly at the session's end
        ("2026-11-23T16:00", 1, "2026-11-23T17:00:00+07:00"),  # not the next morning
        ("2026-11-23T08:00", 8, "2026-11-23T17:00:00+07:00"),  # a full day ends the same evening
        ("2026-11-23T13:00", 8, "2026-11-24T12:00:00+07:00"),
        ("2026-11-23T17:00", 8, "2026-11-24T17:00:00+07:00"),  # starts at the next opening
        ("2026-11-23T06:30", 1, "2026-11-23T09:00:00+07:00"),  # before opening
        ("2026-11-23T12:30", 1, "2026-11-23T14:00:00+07:00"),  # during lunch
        ("2026-11-23T20:00", 1, "2026-11-24T09:00:00+07:00"),  # evening
        ("2026-11-21T10:00", 1, "2026-11-23T09:00:00+07:00"),  # Saturday
        ("2026-11-22T23:59", 4, "2026-11-23T12:00:00+07:00"),  # Sunday night
        ("2026-11-20T16:30", 0.5, "2026-11-20T17:00:00+07:00"),  # Friday, ends at 17:00 Friday
        ("2026-11-20T16:30", 0.75, "2026-11-23T08:15:00+07:00"),
    ],
)
def test_deadline_rules(start: str, hours: float, expected: str) -> None:
    assert due(start, working_hours(hours)) == expected


def test_whole_weeks_and_days() -> None:
    assert due("2026-11-23T08:00", working_days(5)) == "2026-11-27T17:00:00+07:00"
    assert due("2026-11-23T10:00", working_days(5)) == "2026-11-30T10:00:00+07:00"
    assert due("2026-11-23T08:00", working_days(10)) == "2026-12-04T17:00:00+07:00"


def test_seconds_and_microseconds_are_kept() -> None:
    start = vn("2026-11-23T11:59:59.500000")
    assert deadline(start, timedelta(seconds=1), CAL) == vn("2026-11-23T13:00:00.500000")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-11-23T09:30", "2026-11-23T09:30:00+07:00"),  # inside: itself
        ("2026-11-23T08:00", "2026-11-23T08:00:00+07:00"),  # a session start
        ("2026-11-23T12:00", "2026-11-23T12:00:00+07:00"),  # a session end stays put
        ("2026-11-20T17:00", "2026-11-20T17:00:00+07:00"),  # Friday's end stays put
        ("2026-11-23T12:30", "2026-11-23T13:00:00+07:00"),  # outside: the next opening
        ("2026-11-23T07:00", "2026-11-23T08:00:00+07:00"),
        ("2026-11-22T17:00", "2026-11-23T08:00:00+07:00"),  # 17:00 on a Sunday is not a session end
    ],
)
def test_zero_duration(start: str, expected: str) -> None:
    assert due(start, timedelta(0)) == expected


def test_naive_and_negative_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        deadline(datetime(2026, 11, 23, 9), working_hours(1), CAL)
    with pytest.raises(ValueError, match="negative"):
        deadline(vn("2026-11-23T09:00"), timedelta(hours=-1), CAL)
    with pytest.raises(ValueError, match="naive"):
        is_working_time(datetime(2026, 11, 23, 9), CAL)
    with pytest.raises(ValueError, match="naive"):
        working_time_between(datetime(2026, 11, 23, 9), vn("2026-11-23T10:00"), CAL)


def test_other_time_zones_are_converted_and_the_result_is_local() -> None:
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 16:00 in Hanoi
    result = deadline(start, working_hours(4), CAL)
    assert result.isoformat() == "2026-11-23T11:00:00+07:00"
    assert result.utcoffset() == timedelta(hours=7)


# --- real holiday boundaries ---------------------------------------------------------------------------


def test_tet_2026_is_off_from_16_to_20_february() -> None:
    for day in range(16, 21):
        assert not CAL.is_working_day(date(2026, 2, day))
    assert CAL.is_working_day(date(2026, 2, 13))
    assert CAL.is_working_day(date(2026, 2, 23))
    assert due("2026-02-13T16:00", working_hours(2)) == "2026-02-23T09:00:00+07:00"
    # Thu 12, Fri 13, then Mon 23 .. Fri 27: seven working days.
    assert due("2026-02-12T08:00", working_days(7)) == "2026-02-27T17:00:00+07:00"


def test_hung_kings_nghi_bu_and_30_april_1_may_2026() -> None:
    assert not CAL.is_working_day(date(2026, 4, 27))  # nghỉ bù for Sunday 26/04
    assert not CAL.is_working_day(date(2026, 4, 30))
    assert not CAL.is_working_day(date(2026, 5, 1))
    assert due("2026-04-24T16:00", working_hours(2)) == "2026-04-28T09:00:00+07:00"
    assert due("2026-04-29T16:00", working_hours(2)) == "2026-05-04T09:00:00+07:00"


def test_new_year_2026_swap_and_make_up_saturday() -> None:
    assert not CAL.is_working_day(date(2026, 1, 1))
    assert not CAL.is_working_day(date(2026, 1, 2))  # swapped day off
    assert CAL.is_working_day(date(2026, 1, 10))  # Saturday worked instead
    assert not CAL.is_working_day(date(2026, 1, 17))  # an ordinary Saturday
    assert due("2025-12-31T16:00", working_hours(2)) == "2026-01-05T09:00:00+07:00"
    assert due("2026-01-09T16:00", working_hours(2)) == "2026-01-10T09:00:00+07:00"
    assert is_working_time(vn("2026-01-10T10:00"), CAL)
    # Mon 05 .. Fri 09 plus Sat 10: the sixth working day ends on the Saturday.
    assert due("2026-01-05T08:00", working_days(6)) == "2026-01-10T17:00:00+07:00"


def test_2025_swap_and_make_up_saturday() -> None:
    assert CAL.is_working_day(date(2025, 4, 26))
    assert not CAL.is_working_day(date(2025, 5, 2))
    assert due("2025-04-25T16:00", working_hours(2)) == "2025-04-26T09:00:00+07:00"
    assert due("2025-04-29T16:00", working_hours(2)) == "2025-05-05T09:00:00+07:00"


def test_unconfirmed_days_are_working_days() -> None:
    assert CAL.is_working_day(date(2026, 11, 24))  # Culture Day: legal force not confirmed
    assert CAL.is_working_day(date(2030, 11, 25))  # its "observed" Monday in the fallback


def test_year_outside_the_file_uses_the_statutory_holidays() -> None:
    # Tết 2030: mùng 1 is Saturday 02/02; the package gives 31/01 - 06/02 off.
    for d in (date(2030, 1, 31), date(2030, 2, 1), date(2030, 2, 4), date(2030, 2, 6)):
        assert not CAL.is_working_day(d)
    assert not CAL.is_working_day(date(2030, 4, 12))  # Hùng Kings, 10/3 lunar
    assert due("2030-01-30T16:00", working_hours(2)) == "2030-02-07T09:00:00+07:00"
    off, _ = statutory_days(2030)
    assert date(2030, 9, 2) in off
    assert date(2030, 11, 24) not in off


def test_fallback_includes_announced_make_up_saturdays() -> None:
    off, makeup = statutory_days(2026)
    assert date(2026, 8, 31) in off and date(2026, 8, 22) in makeup
    # The shipped file covers 2026, so the unconfirmed 2026 swap is not applied.
    assert CAL.is_working_day(date(2026, 8, 31))
    assert not CAL.is_working_day(date(2026, 8, 22))


def test_deadline_across_the_year_end_into_a_fallback_year() -> None:
    # 01/01/2027 (Friday) is a holiday; 02-03 a weekend.
    assert due("2026-12-31T16:00", working_hours(2)) == "2027-01-04T09:00:00+07:00"
    start = vn("2026-12-31T16:00")
    assert working_time_between(start, vn("2027-01-04T09:00"), CAL) == working_hours(2)


def test_long_durations_cross_many_years() -> None:
    start = vn("2025-03-03T08:00")
    end = deadline(start, working_days(2000), CAL)
    assert end.year in (2032, 2033)
    assert working_time_between(start, end, CAL) == working_days(2000)


# --- working time, openings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "hours"),
    [
        ("2026-11-23T09:00", "2026-11-23T11:00", 2),
        ("2026-11-23T11:00", "2026-11-23T14:00", 2),
        ("2026-11-20T16:00", "2026-11-23T11:00", 4),
        ("2026-11-21T10:00", "2026-11-22T10:00", 0),  # a weekend
        ("2026-11-23T12:10", "2026-11-23T12:50", 0),  # inside the lunch break
        ("2026-11-23T18:00", "2026-11-24T07:00", 0),
        ("2026-02-13T08:00", "2026-02-23T17:00", 16),  # around Tết
        ("2026-11-23T11:00", "2026-11-23T09:00", -2),  # reversed
    ],
)
def test_working_time_between(a: str, b: str, hours: float) -> None:
    assert working_time_between(vn(a), vn(b), CAL) == working_hours(hours)


@pytest.mark.parametrize(
    ("when", "working"),
    [
        ("2026-11-23T08:00", True),
        ("2026-11-23T07:59:59", False),
        ("2026-11-23T11:59:59", True),
        ("2026-11-23T12:00", False),
        ("2026-11-23T13:00", True),
        ("2026-11-23T17:00", False),
        ("2026-11-21T10:00", False),
        ("2026-02-17T10:00", False),
    ],
)
def test_is_working_time(when: str, working: bool) -> None:
    assert is_working_time(vn(when), CAL) is working


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-11-23T09:15", "2026-11-23T09:15:00+07:00"),
        ("2026-11-23T12:00", "2026-11-23T13:00:00+07:00"),
        ("2026-11-20T17:00", "2026-11-23T08:00:00+07:00"),
        ("2026-02-13T17:30", "2026-02-23T08:00:00+07:00"),
        ("2026-01-09T18:00", "2026-01-10T08:00:00+07:00"),
    ],
)
def test_next_opening(when: str, expected: str) -> None:
    assert next_opening(vn(when), CAL).isoformat() == expected


# --- configuration -------------------------------------------------------------------------------------


def test_parse_sessions() -> None:
    assert parse_sessions(["08:00-12:00", "13:00-17:00"]) == DEFAULT_SESSIONS
    assert parse_sessions([" 7:30 - 11:30 "]) == ((time(7, 30), time(11, 30)),)
    for bad in (["8-12"], ["12:00-08:00"], ["08:00-12:00", "11:00-15:00"], ["25:00-26:00"], []):
        with pytest.raises(ValueError):
            parse_sessions(bad)


def test_sessions_other_than_eight_hours_still_count_eight_hours_a_day() -> None:
    cal = build_calendar(shipped_days(), parse_sessions(["07:30-11:30", "13:30-17:00"]))
    assert cal.day_length == timedelta(hours=7, minutes=30)
    # 8 working hours = the whole 7.5 h day plus 30 minutes of the next one.
    assert due("2026-11-23T07:30", working_days(1), cal) == "2026-11-24T08:00:00+07:00"
    assert due("2026-11-23T11:00", working_hours(1), cal) == "2026-11-23T14:00:00+07:00"


def test_saturday_as_a_working_weekday() -> None:
    cal = WorkingCalendar(working_weekdays=frozenset(range(6)), covered_years=frozenset({2026}))
    assert cal.is_working_day(date(2026, 11, 21))
    assert deadline(vn("2026-11-20T16:00"), working_hours(2), cal) == vn("2026-11-21T09:00")


def test_calendar_validation() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(sessions=())
    with pytest.raises(ValueError):
        WorkingCalendar(sessions=((time(12), time(8)),))
    with pytest.raises(ValueError):
        WorkingCalendar(working_weekdays=frozenset())
    with pytest.raises(ValueError):
        WorkingCalendar(working_weekdays=frozenset({7}))


def test_a_calendar_without_any_working_day_fails_instead_of_looping() -> None:
    cal = WorkingCalendar(
        working_weekdays=frozenset({6}),
        days_off=frozenset(date(2026, 1, 4) + timedelta(weeks=w) for w in range(53)),
        covered_years=frozenset(range(2026, 2200)),
        statutory_fallback=False,
    )
    # Sundays of 2026 are all off; later years still have Sundays, so a deadline is found in 2027.
    assert deadline(vn("2026-06-01T09:00"), working_hours(1), cal).year == 2027
    never = WorkingCalendar(
        working_weekdays=frozenset({0}),
        days_off=frozenset(date(2026, 1, 5) + timedelta(weeks=w) for w in range(60 * 53)),
        covered_years=frozenset(range(2026, 2200)),
        statutory_fallback=False,
    )
    with pytest.raises(ValueError, match="no working days"):
        deadline(vn("2026-06-01T09:00"), working_hours(1), never)


def test_calendar_is_hashable_and_comparable() -> None:
    other = build_calendar(shipped_days(), DEFAULT_SESSIONS)
    assert other == CAL and hash(other) == hash(CAL)
