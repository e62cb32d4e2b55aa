"""Property tests of ``deadline``: monotonic, additive, inverse of ``working_time_between``, and it never
lands outside office hours except exactly at a session's end. Starts range over 2024-2031, so they cross
the shipped 2025-2026 days off, the make-up Saturdays and the statutory fallback years."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ticketing.calendar_config import build_calendar, shipped_days
from ticketing.domain.calendar import (
    DEFAULT_SESSIONS,
    WorkingCalendar,
    deadline,
    is_working_time,
    parse_sessions,
    working_days,
    working_time_between,
)

CAL = build_calendar(shipped_days(), DEFAULT_SESSIONS)
ODD_CAL = build_calendar(shipped_days(), parse_sessions(["07:30-11:30", "13:30-17:00", "18:00-19:15"]))
VN = CAL.tz

# Starts: any second, in Hanoi or another offset (the calendar converts), including nights and weekends.
offsets = st.sampled_from([timezone(timedelta(hours=7)), UTC, timezone(timedelta(hours=-5))])
starts = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2031, 1, 31)),
    offsets,
)
# Durations: seconds up to 40 working days; plenty of exact session multiples too.
durations = st.one_of(
    st.integers(min_value=0, max_value=40 * 8 * 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(min_value=0, max_value=80).map(lambda h: timedelta(minutes=30 * h)),
    st.integers(min_value=0, max_value=30).map(working_days),
)
calendars = st.sampled_from([CAL, ODD_CAL])


def _session_end(dt: datetime, cal_sessions: tuple[tuple[time, time], ...]) -> bool:
    return any(dt.timetz().replace(tzinfo=None) == end for _s, end in cal_sessions)


@given(starts, durations, durations, calendars)
@settings(max_examples=400, deadline=None)
def test_monotonic_in_duration(start: datetime, a: timedelta, b: timedelta, cal: WorkingCalendar) -> None:
    lo, hi = sorted((a, b))
    assert deadline(start, lo, cal) <= deadline(start, hi, cal)


@given(starts, durations, durations, calendars)
@settings(max_examples=600, deadline=None)
def test_additive(start: datetime, a: timedelta, b: timedelta, cal: WorkingCalendar) -> None:
    assert deadline(deadline(start, a, cal), b, cal) == deadline(start, a + b, cal)


@given(starts, durations, calendars)
@settings(max_examples=600, deadline=None)
def test_lands_in_office_hours_or_exactly_at_a_session_end(
    start: datetime, d: timedelta, cal: WorkingCalendar
) -> None:
    end = deadline(start, d, cal)
    assert end.utcoffset() == timedelta(hours=7)
    assert end >= start
    if is_working_time(end, cal):
        return
    # Not working time: only allowed exactly at the end of a session of a working day.
    assert cal.is_working_day(end.date())
    assert _session_end(end, cal.sessions)


@given(starts, durations.filter(lambda d: d > timedelta(0)), calendars)
@settings(max_examples=400, deadline=None)
def test_positive_duration_never_ends_at_a_session_start(
    start: datetime, d: timedelta, cal: WorkingCalendar
) -> None:
    end = deadline(start, d, cal)
    assert all(end.timetz().replace(tzinfo=None) != s for s, _e in cal.sessions)


@given(starts, durations, calendars)
@settings(max_examples=600, deadline=None)
def test_working_time_between_inverts_deadline(start: datetime, d: timedelta, cal: WorkingCalendar) -> None:
    assert working_time_between(start, deadline(start, d, cal), cal) == d


@given(starts, starts)
@settings(max_examples=300, deadline=None)
def test_working_time_between_is_antisymmetric_and_additive(a: datetime, b: datetime) -> None:
    assert working_time_between(a, b, CAL) == -working_time_between(b, a, CAL)
    mid = min(a, b) + (max(a, b) - min(a, b)) / 2
    lo, hi = min(a, b), max(a, b)
    assert working_time_between(lo, mid, CAL) + working_time_between(mid, hi, CAL) == working_time_between(
        lo, hi, CAL
    )
