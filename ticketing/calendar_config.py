"""Build working calendars and SLA presets from the shipped data files and the settings.

Reads ``ticketing/data/days_off.csv`` (confirmed days off and make-up Saturdays), the optional
``calendar.extra_days_file`` with the same columns, and ``ticketing/data/sla_presets.toml``. Files are
read on first use and cached; nothing is read at import time.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

import reference
from config.settings import Settings, get_settings
from ticketing.domain.calendar import WorkingCalendar, parse_sessions
from ticketing.domain.model import Priority
from ticketing.domain.sla import ExtensionRule, LadderStep, Role, SlaPreset, parse_working_duration

DAY_OFF_KINDS = frozenset({"statutory", "official_tet", "nghi_bu", "swap_off", "policy"})
MAKEUP_KIND = "makeup_workday"
CITIES = reference.CITIES


class CalendarConfigError(ValueError):
    """A calendar or SLA data file is missing or malformed."""


@dataclass(frozen=True)
class DayEntry:
    day: date
    kind: str
    name: str

    @property
    def is_day_off(self) -> bool:
        return self.kind in DAY_OFF_KINDS


def parse_days(lines: Iterable[str], source: str) -> tuple[DayEntry, ...]:
    """Parse a days-off CSV (columns ``date,weekday,kind,name_vi,status``; ``#`` lines are comments)."""
    rows = csv.DictReader(line for line in lines if line.strip() and not line.lstrip().startswith("#"))
    out: list[DayEntry] = []
    for n, row in enumerate(rows, start=1):
        try:
            day = date.fromisoformat((row.get("date") or "").strip())
        except ValueError as exc:
            raise CalendarConfigError(f"{source}: row {n}: malformed date {row.get('date')!r}") from exc
        kind = (row.get("kind") or "").strip()
        if kind not in DAY_OFF_KINDS and kind != MAKEUP_KIND:
            raise CalendarConfigError(f"{source}: row {n}: unknown kind {kind!r}")
        weekday = (row.get("weekday") or "").strip()
        if weekday and weekday != f"{day:%a}":
            raise CalendarConfigError(f"{source}: row {n}: {day} is a {day:%a}, not {weekday}")
        out.append(DayEntry(day, kind, (row.get("name_vi") or "").strip()))
    return tuple(out)


@lru_cache(maxsize=1)
def shipped_days() -> tuple[DayEntry, ...]:
    text = resources.files("ticketing.data").joinpath("days_off.csv").read_text(encoding="utf-8")
    return parse_days(text.splitlines(), "days_off.csv")


@lru_cache(maxsize=8)
def _extra_days(path: str) -> tuple[DayEntry, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarConfigError(f"cannot read calendar.extra_days_file {path!r}: {exc.strerror}") from exc
    return parse_days(text.splitlines(), path)


def build_calendar(
    entries: Iterable[DayEntry],
    sessions: tuple[tuple[time, time], ...],
    timezone: str = "Asia/Ho_Chi_Minh",
    covered_years: Iterable[int] | None = None,
) -> WorkingCalendar:
    """A calendar whose listed years use only ``entries``; other years use the statutory fallback."""
    entries = tuple(entries)
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarConfigError(f"unknown time zone {timezone!r}") from exc
    years = frozenset(covered_years) if covered_years is not None else frozenset(e.day.year for e in entries)
    return WorkingCalendar(
        tz=tz,
        sessions=sessions,
        days_off=frozenset(e.day for e in entries if e.is_day_off),
        extra_working_days=frozenset(e.day for e in entries if not e.is_day_off),
        covered_years=years,
    )


@lru_cache(maxsize=16)
def _calendar(sessions: tuple[tuple[time, time], ...], timezone: str, extra_file: str) -> WorkingCalendar:
    shipped = shipped_days()
    extra = _extra_days(extra_file) if extra_file else ()
    # Only the shipped file's years replace the fallback; extra rows add to whichever source applies.
    covered = {e.day.year for e in shipped}
    return build_calendar(shipped + extra, sessions, timezone, covered)


def calendar_for(city: str | None = None, settings: Settings | None = None) -> WorkingCalendar:
    """The working calendar of ``city`` (default: the configured city). Cached per configuration."""
    settings = settings or get_settings()
    city = city or settings.city
    city_conf = _city(city)
    if "sessions" in settings.calendar.model_fields_set:
        specs: Iterable[str] = settings.calendar.sessions
    else:
        specs = city_conf.get("sessions") or settings.calendar.sessions
    try:
        sessions = parse_sessions(specs)
    except ValueError as exc:
        raise CalendarConfigError(f"calendar.sessions: {exc}") from exc
    return _calendar(sessions, settings.calendar.timezone, settings.calendar.extra_days_file)


@lru_cache(maxsize=1)
def _presets_file() -> dict[str, Any]:
    text = resources.files("ticketing.data").joinpath("sla_presets.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _city(city: str) -> Mapping[str, Any]:
    cities: Mapping[str, Any] = _presets_file().get("cities", {})
    if city not in cities:
        raise CalendarConfigError(f"unknown city {city!r}; expected one of {', '.join(sorted(cities))}")
    conf: Mapping[str, Any] = cities[city]
    return conf


def _role(value: str, where: str) -> Role:
    try:
        return Role[value.upper()]
    except KeyError as exc:
        raise CalendarConfigError(f"{where}: unknown role {value!r}") from exc


def parse_preset(name: str, raw: Mapping[str, Any]) -> SlaPreset:
    """Build a preset from its TOML table (see ``sla_presets.toml`` for the shape)."""
    where = f"sla preset {name!r}"
    try:
        ext = raw.get("extension", {})
        return SlaPreset(
            name=name,
            title=raw.get("title", name),
            source=raw.get("source", ""),
            handler=_role(raw["handler"], where),
            dispatch=parse_working_duration(raw["dispatch"]) if "dispatch" in raw else None,
            handling={Priority(k): parse_working_duration(v) for k, v in raw["handling"].items()},
            escalation=tuple(
                LadderStep(
                    who=_role(step["who"], where),
                    duration=parse_working_duration(step["duration"]) if "duration" in step else None,
                    overdue=bool(step.get("overdue", False)),
                )
                for step in raw["escalation"]
            ),
            extension=ExtensionRule(
                max_count=int(ext.get("max_count", 0)),
                priorities=frozenset(Priority(p) for p in ext.get("priorities", [])),
                max_each=parse_working_duration(ext["max_each"]) if "max_each" in ext else None,
                max_total=parse_working_duration(ext["max_total"]) if "max_total" in ext else None,
            ),
        )
    except CalendarConfigError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CalendarConfigError(f"{where}: {exc}") from exc


@lru_cache(maxsize=1)
def sla_presets() -> dict[str, SlaPreset]:
    """Every shipped preset by name."""
    return {name: parse_preset(name, raw) for name, raw in _presets_file().get("presets", {}).items()}


def preset_for(city: str | None = None, settings: Settings | None = None) -> SlaPreset:
    """The SLA preset of ``city`` (default: the configured city)."""
    city = city or (settings or get_settings()).city
    name = _city(city).get("preset", "")
    presets = sla_presets()
    if name not in presets:
        raise CalendarConfigError(f"city {city!r} refers to unknown SLA preset {name!r}")
    return presets[name]


def _statutory_names(year: int) -> dict[date, str]:
    table = holidays.country_holidays("VN", years=year, language="vi")
    return {day: "; ".join(table.get_list(day)) for day in table}


def day_entries(
    year: int, calendar: WorkingCalendar, settings: Settings | None = None
) -> tuple[DayEntry, ...]:
    """The days off and make-up working days of ``calendar`` in ``year``, named, in date order."""
    settings = settings or get_settings()
    extra_file = settings.calendar.extra_days_file
    listed = {e.day: e for e in shipped_days() + (_extra_days(extra_file) if extra_file else ())}
    fallback: dict[date, str] = {}
    out = []
    off, makeup = calendar.days_off_in(year), calendar.makeup_days_in(year)
    for day in sorted(off | makeup):
        entry = listed.get(day)
        if entry is None:
            if not fallback:
                fallback = _statutory_names(year)
            kind = "statutory" if day in off else MAKEUP_KIND
            name = fallback.get(day, "Ngày nghỉ" if day in off else "Ngày làm bù")
            entry = DayEntry(day, kind, name)
        out.append(entry)
    return tuple(out)
