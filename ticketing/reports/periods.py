"""Report periods (pure): a month ``2026-10``, a quarter ``2026Q3``, a year ``2026`` or a date range,
as half-open intervals ``[start, end)`` of local time (Asia/Ho_Chi_Minh)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


class PeriodError(ValueError):
    """A malformed period; the message is "Vietnamese / English"."""


FIRST_YEAR, LAST_YEAR = 1900, 2999  # a report outside these years has no data, and 9999-12-31 has no "after"


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _out_of_range()


def _checked(period: Period) -> Period:
    if not (period.first.year >= FIRST_YEAR and period.last.year <= LAST_YEAR):
        raise _out_of_range()
    return period


def _out_of_range() -> PeriodError:
    return PeriodError(
        f"Kỳ báo cáo phải nằm trong các năm {FIRST_YEAR}–{LAST_YEAR} / "
        f"the period must lie within the years {FIRST_YEAR}-{LAST_YEAR}"
    )


@dataclass(frozen=True)
class Period:
    kind: str  # "month" | "quarter" | "year" | "range"
    first: date  # first day
    last: date  # last day (inclusive)
    label: str  # Vietnamese, e.g. "Tháng 10/2026"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), LOCAL_TZ)

    @property
    def end(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), LOCAL_TZ)

    @property
    def slug(self) -> str:
        return f"{self.first:%Y%m%d}-{self.last:%Y%m%d}"


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def month(text: str) -> Period:
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodError(f"Tháng không hợp lệ: {text!r} / malformed month {text!r} (expected e.g. 2026-10)")
    y, mo = int(m.group(1)), int(m.group(2))
    _check_year(y)
    return _checked(Period("month", date(y, mo, 1), _month_end(y, mo), f"Tháng {mo:02d}/{y}"))


def quarter(text: str) -> Period:
    m = _QUARTER.match(text)
    if not m:
        raise PeriodError(f"Quý không hợp lệ: {text!r} / malformed quarter {text!r} (expected e.g. 2026Q3)")
    y, q = int(m.group(1)), int(m.group(2))
    _check_year(y)
    return Period("quarter", date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"Quý {q}/{y}")


def year(text: str) -> Period:
    m = _YEAR.match(str(text))
    if not m:
        raise PeriodError(f"Năm không hợp lệ: {text!r} / malformed year {text!r} (expected e.g. 2026)")
    y = int(m.group(1))
    _check_year(y)
    return _checked(Period("year", date(y, 1, 1), date(y, 12, 31), f"Năm {y}"))


def date_range(first: str, last: str) -> Period:
    try:
        a, b = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
    except ValueError:
        raise PeriodError(
            f"Ngày không hợp lệ: {first!r}..{last!r} / malformed dates (expected YYYY-MM-DD)"
        ) from None
    if b < a:
        raise PeriodError(f"Ngày kết thúc trước ngày bắt đầu / {last} is before {first}")
    return _checked(Period("range", a, b, f"Từ {a:%d/%m/%Y} đến {b:%d/%m/%Y}"))
