"""Routing: most specific rule wins, priority breaks ties, defaults follow the two-tier local government."""

from __future__ import annotations

import pytest

import reference
from ticketing.domain.errors import ValidationError
from ticketing.domain.routing import ANY, RoutingRule, explain, route, validate_rule

HOAN_KIEM = "00070"
BA_DINH = "00004"

RULES = [
    RoutingRule(ANY, ANY, "VP-UBND", 0),
    RoutingRule(ANY, HOAN_KIEM, "BQL-PHO-CO", 0),
    RoutingRule("TN", ANY, "TN-HN", 0),
    RoutingRule("TN", HOAN_KIEM, "XN-TN-HK", 0),
]


@pytest.mark.parametrize(
    ("category", "ward", "agency"),
    [
        ("TN", HOAN_KIEM, "XN-TN-HK"),  # category and ward
        ("TN", BA_DINH, "TN-HN"),  # category beats the catch-all
        ("VSMT", HOAN_KIEM, "BQL-PHO-CO"),  # ward beats the catch-all
        ("VSMT", BA_DINH, "VP-UBND"),  # only the catch-all
        ("TN", "", "TN-HN"),  # ward unknown: ward rules cannot match
    ],
)
def test_most_specific_rule_wins(category: str, ward: str, agency: str) -> None:
    assert route(category, ward, RULES, "hanoi") == agency
    assert route(category, ward, list(reversed(RULES)), "hanoi") == agency  # order does not matter


def test_category_rule_beats_ward_rule() -> None:
    rules = [RoutingRule(ANY, HOAN_KIEM, "UBND-00070"), RoutingRule("DIEN", ANY, "EVN-HN")]
    decision = explain("DIEN", HOAN_KIEM, rules, "hanoi")
    assert decision.agency == "EVN-HN"
    assert decision.rule == rules[1]
    assert decision.matching == (rules[1], rules[0])


def test_priority_breaks_ties_then_list_order() -> None:
    rules = [
        RoutingRule("NUOC", HOAN_KIEM, "NUOC-HN", 0),
        RoutingRule("NUOC", HOAN_KIEM, "VIWACO", 5),
        RoutingRule("NUOC", HOAN_KIEM, "NUOC-HD", 5),
    ]
    assert route("NUOC", HOAN_KIEM, rules, "hanoi") == "VIWACO"
    assert route("NUOC", HOAN_KIEM, [rules[0], rules[2], rules[1]], "hanoi") == "NUOC-HD"
    # Priority never beats specificity.
    assert route("NUOC", HOAN_KIEM, [*rules, RoutingRule("NUOC", ANY, "SO-XD", 100)], "hanoi") == "VIWACO"


def test_default_place_category_goes_to_the_ward_committee() -> None:
    decision = explain("TTDT", HOAN_KIEM, [], "hanoi")
    assert decision.agency == "UBND-00070"
    assert decision.is_default and decision.rule is None
    assert "UBND" in decision.reason


def test_default_place_category_without_ward_goes_to_the_city_default() -> None:
    decision = explain("VSMT", "", [], "hanoi")
    assert decision.agency == "MT-HN"
    assert "ward unknown" in decision.reason


@pytest.mark.parametrize(
    ("city", "category", "agency"),
    [
        ("hanoi", "DIEN", "EVN-HN"),
        ("hanoi", "GT-HT", "SO-XD"),
        ("hanoi", "HCC", "TT-PVHCC"),
        ("hanoi", "YT", "SO-YT"),
        ("haiphong", "DIEN", "HP-SO-CT"),
        ("cantho", "TN", "CT-SO-XD"),
    ],
)
def test_default_sector_category_goes_to_the_department(city: str, category: str, agency: str) -> None:
    ward = reference.units(city)[0].code
    decision = explain(category, ward, [], city)
    assert decision.agency == agency
    assert "sector" in decision.reason


@pytest.mark.parametrize("city", reference.CITIES)
def test_every_category_routes_to_a_shipped_agency_in_every_city(city: str) -> None:
    codes = {a.code for a in reference.agencies(city)}
    for category in reference.categories():
        for ward in (reference.units(city)[0].code, ""):
            assert route(category, ward, [], city) in codes, (city, category, ward)


@pytest.mark.parametrize(
    ("category", "ward", "city", "fragment"),
    [
        ("XYZ", HOAN_KIEM, "hanoi", "unknown category"),
        ("VSMT", "99999", "hanoi", "unknown ward"),
        ("VSMT", HOAN_KIEM, "cantho", "unknown ward"),
        ("VSMT", HOAN_KIEM, "hcmc", "unknown city"),
    ],
)
def test_bad_input_is_refused(category: str, ward: str, city: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        route(category, ward, [], city)


def test_validate_rule() -> None:
    good = RoutingRule("CX", HOAN_KIEM, "CX-HN", 1)
    assert validate_rule(good, "hanoi") is good
    assert validate_rule(RoutingRule(ANY, ANY, "CT-VP-UBND"), "cantho")
    for bad in (
        RoutingRule("XX", ANY, "A"),
        RoutingRule(ANY, "12345", "A"),
        RoutingRule(ANY, "", "A"),
        RoutingRule(ANY, ANY, "  "),
    ):
        with pytest.raises(ValidationError):
            validate_rule(bad, "hanoi")
    with pytest.raises(ValidationError):
        validate_rule(RoutingRule(ANY, ANY, "A"), "hcmc")


def test_specificity_order() -> None:
    assert RoutingRule("TN", HOAN_KIEM, "a").specificity > RoutingRule("TN", ANY, "a").specificity
    assert RoutingRule("TN", ANY, "a").specificity > RoutingRule(ANY, HOAN_KIEM, "a").specificity
    assert RoutingRule(ANY, HOAN_KIEM, "a").specificity > RoutingRule(ANY, ANY, "a").specificity
