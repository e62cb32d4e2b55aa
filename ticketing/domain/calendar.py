"""The working calendar: office sessions, days off, make-up Saturdays, and deadlines in working time.

A deadline is a pure function of (start, duration, calendar). Rules (SPEC §2, HN Art. 8-9):

* time counts only inside office sessions (default Mon-Fri 08:00-12:00 and 13:00-17:00,
  Asia/Ho_Chi_Minh) on working days; a working day is a working weekday that is not a day off, or a
  make-up Saturday (ngày làm bù);
* N working days = 8·N working hours (:func:`working_days`);
* a start outside office hours counts from the next opening;
* a duration that ends exactly at a session's end ends there, not at the next opening;
* a zero duration returns the start itself when it lies inside a session or exactly on a session's
  start or end, otherwise the next opening. This keeps ``deadline`` additive:
  ``deadline(deadline(s, a), b) == deadline(s, a + b)`` for every ``a, b >= 0``.

Days off come from the calendar's explicit sets (loaded from the shipped data file by
:mod:`ticketing.calendar_config`); for years the data file does not cover, the statutory holidays,
compensatory days and announced swaps known to the ``holidays`` package are used, computed lazily per
year and cached. The cost of a deadline does not depend on the duration: whole days are skipped with
a binary search over a per-year table of working days.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_SESSIONS: tuple[tuple[time, time], ...] = ((time(8), time(12)), (time(13), time(17)))
MON_TO_FRI: frozenset[int] = frozenset(range(5))
HOURS_PER_WORKING_DAY = 8

# Holidays the `holidays` package lists whose legal force is not confirmed: left out of the fallback,
# as the 2026 row is left out of the shipped data file (see ticketing/data/days_off.csv).
UNCONFIRMED_HOLIDAY_NAMES: tuple[str, ...] = ("Vietnam Cultural Day",)

_US = 1_000_000
_ONE_US = timedelta(microseconds=1)
_SESSION_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# A calendar must find a working day within this many years, or it is considered to have none.
_MAX_EMPTY_YEARS = 50


def working_hours(n: float) -> timedelta:
    """A duration of ``n`` working hours."""
    return timedelta(hours=n)


def working_days(n: float) -> timedelta:
    """A duration of ``n`` working days: by definition 8·n working hours."""
    return timedelta(hours=HOURS_PER_WORKING_DAY * n)


def parse_sessions(specs: Iterable[str]) -> tuple[tuple[time, time], ...]:
    """Parse office sessions written as ``"HH:MM-HH:MM"``; they must be increasing and not overlap."""
    out: list[tuple[time, time]] = []
    for spec in specs:
        m = _SESSION_RE.match(spec)
        if not m:
            raise ValueError(f"malformed office session {spec!r}; expected HH:MM-HH:MM, e.g. 08:00-12:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        try:
            out.append((time(h1, m1), time(h2, m2)))
        except ValueError as exc:
            raise ValueError(f"malformed office session {spec!r}: {exc}") from exc
    _check_sessions(tuple(out))
    return tuple(out)


def _check_sessions(sessions: tuple[tuple[time, time], ...]) -> None:
    if not sessions:
        raise ValueError("a working calendar needs at least one office session")
    previous_end: time | None = None
    for start, end in sessions:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("office sessions are local wall-clock times without a time zone")
        if not start < end:
            raise ValueError(f"office session {start:%H:%M}-{end:%H:%M} ends before it starts")
        if previous_end is not None and start < previous_end:
            raise ValueError("office sessions must be in order and must not overlap")
        previous_end = end


def _us_of_day(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US + t.microsecond


@lru_cache(maxsize=64)
def statutory_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, make-up working Saturdays) of ``year`` according to the ``holidays`` package.

    Covers the Labour Code holidays including lunar Tết and Hùng Kings' day, compensatory days and
    the yearly swaps the package knows; holidays in :data:`UNCONFIRMED_HOLIDAY_NAMES` are left out.
    """
    table = holidays.country_holidays("VN", years=year, language="en_US")
    off: set[date] = set()
    for day in table:
        names = table.get_list(day)
        if any(not n.startswith(UNCONFIRMED_HOLIDAY_NAMES) for n in names):
            off.add(day)
    makeup = {d for d in table.weekend_workdays if d.year == year}
    return frozenset(off), frozenset(makeup)


@dataclass(frozen=True, slots=True)
class _Year:
    ordinals: tuple[int, ...]  # sorted ordinals of the working days of the year
    working: frozenset[int]


@dataclass(frozen=True)
class WorkingCalendar:
    """Office sessions, working weekdays and exceptions; build one with :mod:`ticketing.calendar_config`.

    ``days_off`` and ``extra_working_days`` always apply. For a year not in ``covered_years`` the
    statutory holidays of :func:`statutory_days` are added (when ``statutory_fallback`` is on).
    """

    tz: tzinfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    sessions: tuple[tuple[time, time], ...] = DEFAULT_SESSIONS
    working_weekdays: frozenset[int] = MON_TO_FRI
    days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    covered_years: frozenset[int] = frozenset()
    statutory_fallback: bool = True
    _bounds: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False, hash=False)
    _day_us: int = field(init=False, repr=False, compare=False, hash=False)
    _years: dict[int, _Year] = field(init=False, repr=False, compare=False, hash=False, default_factory=dict)

    def __post_init__(self) -> None:
        _check_sessions(self.sessions)
        if not self.working_weekdays or not self.working_weekdays <= frozenset(range(7)):
            raise ValueError("working weekdays must be a non-empty subset of 0 (Monday) .. 6 (Sunday)")
        bounds = tuple((_us_of_day(s), _us_of_day(e)) for s, e in self.sessions)
        object.__setattr__(self, "_bounds", bounds)
        object.__setattr__(self, "_day_us", sum(e - s for s, e in bounds))

    @property
    def day_length(self) -> timedelta:
        """Working time in one working day (the sum of the sessions)."""
        return timedelta(microseconds=self._day_us)

    def is_working_day(self, day: date) -> bool:
        return day.toordinal() in self._year(day.year).working

    def days_off_in(self, year: int) -> frozenset[date]:
        """Days off of ``year`` that would otherwise be working weekdays, plus any listed day off."""
        off, _ = self._exceptions(year)
        return off

    def makeup_days_in(self, year: int) -> frozenset[date]:
        _, extra = self._exceptions(year)
        return extra

    def _exceptions(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        off = {d for d in self.days_off if d.year == year}
        extra = {d for d in self.extra_working_days if d.year == year}
        if self.statutory_fallback and year not in self.covered_years:
            fallback_off, fallback_extra = statutory_days(year)
            off |= fallback_off
            extra |= fallback_extra
        return frozenset(off), frozenset(extra - off)

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        off, extra = self._exceptions(year)
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        ordinals = []
        for o in range(first, last + 1):
            d = date.fromordinal(o)
            if d in extra or (d.weekday() in self.working_weekdays and d not in off):
                ordinals.append(o)
        built = _Year(tuple(ordinals), frozenset(ordinals))
        self._years[year] = built
        return built

    def _nth_working_day_after(self, ordinal: int, year: int, n: int) -> int:
        """Ordinal of the n-th (n >= 1) working day strictly after ``ordinal`` (which lies in ``year``)."""
        table = self._year(year)
        idx = bisect_right(table.ordinals, ordinal) + n - 1
        empty_years = 0
        while idx >= len(table.ordinals):
            if not table.ordinals:
                empty_years += 1
                if empty_years > _MAX_EMPTY_YEARS:
                    raise ValueError("the working calendar has no working days")
            idx -= len(table.ordinals)
            year += 1
            table = self._year(year)
        return table.ordinals[idx]

    def _working_days_between(self, o1: int, y1: int, o2: int, y2: int) -> int:
        """Number of working days with ordinal in [o1, o2), o1 <= o2."""
        if y1 == y2:
            ords = self._year(y1).ordinals
            return bisect_left(ords, o2) - bisect_left(ords, o1)
        first = self._year(y1).ordinals
        count = len(first) - bisect_left(first, o1)
        for y in range(y1 + 1, y2):
            count += len(self._year(y).ordinals)
        return count + bisect_left(self._year(y2).ordinals, o2)


def _local(dt: datetime, cal: WorkingCalendar) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} refused: give a time zone offset")
    return dt.astimezone(cal.tz)


def _split(local: datetime) -> tuple[int, int, int]:
    """(ordinal, year, microseconds since local midnight)."""
    t = ((local.hour * 60 + local.minute) * 60 + local.second) * _US + local.microsecond
    return local.toordinal(), local.year, t


def _at(ordinal: int, us: int, cal: WorkingCalendar) -> datetime:
    return (datetime.fromordinal(ordinal) + timedelta(microseconds=us)).replace(tzinfo=cal.tz)


def _first_opening_from(cal: WorkingCalendar, o: int, y: int, t: int) -> datetime:
    """Start of the first session beginning strictly after local time ``t`` of day ``o``."""
    if o in cal._year(y).working:
        for s, _e in cal._bounds:
            if s > t:
                return _at(o, s, cal)
    nxt = cal._nth_working_day_after(o, y, 1)
    return _at(nxt, cal._bounds[0][0], cal)


def deadline(start: datetime, duration: timedelta, calendar: WorkingCalendar) -> datetime:
    """The moment when ``duration`` of working time has elapsed after ``start`` (aware, calendar tz)."""
    cal = calendar
    rem = duration // _ONE_US
    if rem < 0:
        raise ValueError("a deadline duration cannot be negative")
    local = _local(start, cal)
    o, y, t = _split(local)
    bounds = cal._bounds
    working_today = o in cal._year(y).working
    if rem == 0:
        if working_today:
            for s, e in bounds:
                if s <= t <= e:
                    return local
        return _first_opening_from(cal, o, y, t)
    if working_today:
        for s, e in bounds:
            if t < e:
                t0 = s if t < s else t
                avail = e - t0
                if rem <= avail:
                    return _at(o, t0 + rem, cal)
                rem -= avail
    # Skip whole working days, then walk the sessions of the day where the deadline falls.
    day_us = cal._day_us
    days = (rem + day_us - 1) // day_us
    rem -= (days - 1) * day_us
    target = cal._nth_working_day_after(o, y, days)
    for s, e in bounds:
        avail = e - s
        if rem <= avail:
            return _at(target, s + rem, cal)
        rem -= avail
    raise AssertionError("unreachable: the remainder fits in one working day")  # pragma: no cover


def is_working_time(dt: datetime, calendar: WorkingCalendar) -> bool:
    """True inside an office session of a working day (a session's end is not working time)."""
    o, y, t = _split(_local(dt, calendar))
    if o not in calendar._year(y).working:
        return False
    return any(s <= t < e for s, e in calendar._bounds)


def next_opening(dt: datetime, calendar: WorkingCalendar) -> datetime:
    """``dt`` itself (in the calendar tz) if it is working time, else the start of the next session."""
    local = _local(dt, calendar)
    if is_working_time(local, calendar):
        return local
    o, y, t = _split(local)
    return _first_opening_from(calendar, o, y, t)


def _worked_in_day(cal: WorkingCalendar, t: int) -> int:
    return sum(min(max(t - s, 0), e - s) for s, e in cal._bounds)


def working_time_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> timedelta:
    """Working time elapsed from ``a`` to ``b``; negative when ``b`` is before ``a``.

    Inverse of :func:`deadline`: ``working_time_between(s, deadline(s, d)) == d``.
    """
    la, lb = _local(a, calendar), _local(b, calendar)
    if lb < la:
        return -working_time_between(lb, la, calendar)
    oa, ya, ta = _split(la)
    ob, yb, tb = _split(lb)
    cal = calendar
    within_a = _worked_in_day(cal, ta) if oa in cal._year(ya).working else 0
    within_b = _worked_in_day(cal, tb) if ob in cal._year(yb).working else 0
    full = cal._working_days_between(oa, ya, ob, yb)
    return timedelta(microseconds=full * cal._day_us - within_a + within_b)
