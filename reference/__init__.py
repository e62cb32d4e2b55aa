"""Reference data shipped inside the package: administrative units (wards/communes) and categories.

Sources are cited in the data files' headers. Loading is cached; files are read on first use only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

CITIES = ("hanoi", "haiphong", "cantho")
CITY_NAMES = {"hanoi": "Thành phố Hà Nội", "haiphong": "Thành phố Hải Phòng", "cantho": "Thành phố Cần Thơ"}


@dataclass(frozen=True)
class Unit:
    """A commune-level unit (xã / phường / đặc khu) in force from 1 July 2025."""

    code: str  # 5-digit NSO code
    unit_type: str  # "phường" | "xã" | "đặc khu"
    name: str  # full official name, e.g. "Phường Hoàn Kiếm"
    short_name: str  # e.g. "Hoàn Kiếm"
    city: str


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    scope: str  # "place" (ward People's Committee by default) | "sector" (a department or utility)
    examples: str


def _data_lines(name: str) -> list[str]:
    text = resources.files("reference.data").joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@cache
def units(city: str) -> tuple[Unit, ...]:
    if city not in CITIES:
        raise ValueError(f"unknown city {city!r}; expected one of {', '.join(CITIES)}")
    out = []
    for line in _data_lines(f"units/{city}.tsv"):
        code, unit_type, name, short = line.split("\t")
        out.append(Unit(code, unit_type, name, short, city))
    return tuple(out)


@cache
def ward_codes(city: str) -> frozenset[str]:
    """The codes of a city's wards/communes, for fast membership checks."""
    return frozenset(u.code for u in units(city))


@cache
def all_units() -> dict[str, Unit]:
    """Every unit of every supported city, by code."""
    return {u.code: u for city in CITIES for u in units(city)}


@cache
def categories() -> dict[str, Category]:
    rows = csv.DictReader(_data_lines("categories.csv"))
    return {r["code"]: Category(r["code"], r["name_vi"], r["scope"], r["examples_vi"]) for r in rows}


@dataclass(frozen=True)
class AgencyRef:
    """An agency that can lead or coordinate a ticket, as shipped in ``data/agencies/<city>.csv``."""

    code: str  # e.g. "SO-XD", "UBND-00070"
    name: str  # Vietnamese official name
    kind: str  # "department" | "centre" | "police" | "utility" | "commune"
    city: str
    ward_code: str = ""  # for "commune" rows: the NSO code of the ward/commune
    note: str = ""


def _check_city(city: str) -> None:
    if city not in CITIES:
        raise ValueError(f"unknown city {city!r}; expected one of {', '.join(CITIES)}")


@cache
def agencies(city: str) -> tuple[AgencyRef, ...]:
    """The shipped agencies of a city: departments, centres, police, utilities and one UBND per ward."""
    _check_city(city)
    rows = csv.DictReader(_data_lines(f"agencies/{city}.csv"))
    return tuple(AgencyRef(r["code"], r["name_vi"], r["kind"], city, r["ward_code"], r["note"]) for r in rows)


def commune_agency_code(ward_code: str) -> str:
    """The agency code of a ward/commune People's Committee: ``"UBND-<ward_code>"``."""
    return f"UBND-{ward_code}"


@cache
def default_agencies(city: str) -> dict[str, str]:
    """Category code -> the city-level default agency code (``data/routing_defaults.csv``)."""
    _check_city(city)
    rows = csv.DictReader(_data_lines("routing_defaults.csv"))
    return {r["category"]: r["agency"] for r in rows if r["city"] == city}
