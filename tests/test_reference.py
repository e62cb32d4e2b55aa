"""Shipped agency reference data: the departments of each city and one People's Committee per ward."""

from __future__ import annotations

import pytest

import reference

HANOI_DEPARTMENTS = {
    "VP-UBND",
    "SO-NV",
    "SO-TP",
    "SO-TC",
    "SO-CT",
    "SO-NNMT",
    "SO-XD",
    "SO-QHKT",
    "SO-KHCN",
    "SO-VHTT",
    "SO-DL",
    "SO-GDDT",
    "SO-YT",
    "SO-DTTG",
    "TTR-TP",
}


def test_hanoi_has_15_departments_and_1_equivalent_body() -> None:
    departments = {a.code for a in reference.agencies("hanoi") if a.kind == "department"}
    assert departments == HANOI_DEPARTMENTS | {"BQL-KCNC"}
    codes = {a.code for a in reference.agencies("hanoi")}
    assert {"TT-PVHCC", "CA-TP", "EVN-HN", "TN-HN", "CS-HN", "CX-HN", "MT-HN", "VT-HN"} <= codes


@pytest.mark.parametrize(("city", "count"), [("hanoi", 126), ("haiphong", 114), ("cantho", 103)])
def test_one_peoples_committee_per_ward(city: str, count: int) -> None:
    communes = [a for a in reference.agencies(city) if a.kind == "commune"]
    assert len(communes) == count
    units = {u.code: u for u in reference.units(city)}
    assert {a.ward_code for a in communes} == set(units)
    for agency in communes:
        unit = units[agency.ward_code]
        assert agency.code == reference.commune_agency_code(unit.code) == f"UBND-{unit.code}"
        assert agency.name == f"Ủy ban nhân dân {unit.unit_type} {unit.short_name}"
        assert agency.city == city


@pytest.mark.parametrize("city", reference.CITIES)
def test_agency_rows_are_well_formed(city: str) -> None:
    rows = reference.agencies(city)
    codes = [a.code for a in rows]
    assert len(codes) == len(set(codes)), "agency codes are unique"
    kinds = {"department", "centre", "police", "utility", "commune"}
    for a in rows:
        assert a.kind in kinds
        assert a.name.strip() and a.code.strip() and " " not in a.code
        assert bool(a.ward_code) == (a.kind == "commune")
    generic = {
        "VP-UBND",
        "SO-NV",
        "SO-TP",
        "SO-TC",
        "SO-CT",
        "SO-NNMT",
        "SO-XD",
        "SO-KHCN",
        "SO-GDDT",
        "SO-YT",
    }
    prefix = {"hanoi": "", "haiphong": "HP-", "cantho": "CT-"}[city]
    assert {prefix + c for c in generic} <= set(codes)


@pytest.mark.parametrize("city", reference.CITIES)
def test_default_routing_covers_every_category_with_known_agencies(city: str) -> None:
    defaults = reference.default_agencies(city)
    assert set(defaults) == set(reference.categories())
    codes = {a.code for a in reference.agencies(city)}
    assert set(defaults.values()) <= codes


def test_unknown_city_is_refused() -> None:
    with pytest.raises(ValueError):
        reference.agencies("hcmc")
    with pytest.raises(ValueError):
        reference.default_agencies("hcmc")


def test_data_files_cite_their_sources() -> None:
    from importlib import resources

    root = resources.files("reference.data")
    for name in (
        "agencies/hanoi.csv",
        "agencies/haiphong.csv",
        "agencies/cantho.csv",
        "routing_defaults.csv",
    ):
        head = root.joinpath(name).read_text(encoding="utf-8").splitlines()[:8]
        assert any("Source" in line for line in head), name
