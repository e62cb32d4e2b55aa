"""``hotline calendar``: compute deadlines in working time and inspect days off.

``hotline calendar deadline`` prints the deadline as ISO 8601 with its UTC offset as the last line of
its output; scripts outside the test suite rely on that.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click

from commands.errors import UserError
from config.settings import SettingsError
from reference import CITIES
from ticketing.calendar_config import CalendarConfigError, calendar_for, day_entries
from ticketing.domain.calendar import WorkingCalendar, deadline, working_days, working_hours

city_option = click.option(
    "--city",
    type=click.Choice(CITIES),
    default=None,
    help="City whose calendar to use (default: the configured city).",
)


def _calendar(city: str | None) -> WorkingCalendar:
    try:
        return calendar_for(city)
    except (CalendarConfigError, SettingsError) as exc:
        raise UserError(f"Cấu hình lịch không hợp lệ / invalid calendar configuration: {exc}") from exc


def _parse_start(text: str, cal: WorkingCalendar) -> datetime:
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UserError(
            f"Thời điểm bắt đầu không hợp lệ: {text!r} / malformed start time {text!r}; "
            "expected ISO 8601, e.g. 2026-11-20T16:00+07:00"
        ) from exc
    if start.tzinfo is None:
        start = start.replace(tzinfo=cal.tz)
    return start


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UserError(
            f"Ngày không hợp lệ: {text!r} / malformed date {text!r}; expected YYYY-MM-DD"
        ) from exc


@click.group("calendar")
def calendar_group() -> None:
    """Working calendar: deadlines in working hours/days, days off, make-up Saturdays."""


@calendar_group.command("deadline")
@click.option("--start", "start_text", required=True, help="Start time, ISO 8601 (offset optional).")
@click.option("--hours", type=float, default=None, help="Duration in working hours.")
@click.option("--days", type=float, default=None, help="Duration in working days (1 day = 8 working hours).")
@city_option
def deadline_command(start_text: str, hours: float | None, days: float | None, city: str | None) -> None:
    """Print the deadline after a duration of working time, as ISO 8601 with offset (last line).

    A start without an offset is taken in the calendar's time zone (Asia/Ho_Chi_Minh). A start outside
    office hours counts from the next opening.

    \b
    Examples:
      hotline calendar deadline --start 2026-11-20T16:00+07:00 --hours 4
      hotline calendar deadline --start 2026-02-13T09:30 --days 7 --city cantho
    """
    if (hours is None) == (days is None):
        raise UserError("Cần đúng một trong --hours hoặc --days / give exactly one of --hours or --days")
    amount = hours if hours is not None else days
    if amount is None or amount < 0 or amount != amount or amount in (float("inf"), float("-inf")):
        raise UserError("Thời hạn phải là số không âm / the duration must be a non-negative number")
    cal = _calendar(city)
    start = _parse_start(start_text, cal)
    try:
        duration: timedelta = working_hours(amount) if hours is not None else working_days(amount)
        due = deadline(start, duration, cal)
    except (ValueError, OverflowError) as exc:
        raise UserError(f"Không tính được thời hạn / cannot compute the deadline: {exc}") from exc
    click.echo(due.isoformat())


@calendar_group.command("days-off")
@click.option("--year", type=click.IntRange(1990, 2200), required=True, help="Calendar year.")
@city_option
def days_off_command(year: int, city: str | None) -> None:
    """List the days off and the make-up working Saturdays of a year.

    Years in the shipped data file (2025-2026) list its rows; other years list the statutory holidays.

    \b
    Example:
      hotline calendar days-off --year 2026
    """
    cal = _calendar(city)
    for entry in day_entries(year, cal):
        label = "nghỉ / day off" if entry.is_day_off else "làm bù / working day"
        click.echo(f"{entry.day.isoformat()}  {entry.day:%a}  {label:<20}  {entry.name}")


@calendar_group.command("check")
@click.argument("day_text", metavar="DATE")
@city_option
def check_command(day_text: str, city: str | None) -> None:
    """Say whether DATE (YYYY-MM-DD) is a working day.

    \b
    Examples:
      hotline calendar check 2026-01-10
      hotline calendar check 2026-02-17 --city haiphong
    """
    day = _parse_date(day_text)
    cal = _calendar(city)
    try:
        working = cal.is_working_day(day)
    except (ValueError, OverflowError) as exc:
        raise UserError(f"Không kiểm tra được ngày {day} / cannot check {day}: {exc}") from exc
    names = [e.name for e in day_entries(day.year, cal) if e.day == day and e.name]
    what = "ngày làm việc / working day" if working else "ngày nghỉ / day off"
    suffix = f" ({'; '.join(names)})" if names else ""
    click.echo(f"{day.isoformat()} {day:%a}: {what}{suffix}")
