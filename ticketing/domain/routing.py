"""Routing: which agency leads a ticket, from its category and ward (HN Art. 8, "phân luồng").

A rule maps ``category × ward`` to a lead agency; either side may be ``"*"``. The most specific
matching rule wins: a rule naming the category beats one naming only the ward (an electricity fault
goes to the power company wherever it is), and a rule naming both beats either. Among equally specific
rules the higher ``priority`` wins, then the earlier rule in the list.

With no matching rule, the default follows the two-tier local government (agencies.md §1): the
ward/commune People's Committee (``"UBND-<ward_code>"``) owns place-bound categories (scope "place"
in ``data/categories.csv``), and the shipped city default (``data/routing_defaults.csv``) owns sector
categories, and place-bound ones whose ward is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import reference
from ticketing.domain.errors import ValidationError

ANY = "*"


@dataclass(frozen=True)
class RoutingRule:
    category: str  # category code or "*"
    ward_code: str  # 5-digit ward code or "*"
    agency: str  # agency code, e.g. "SO-XD", "UBND-00070"
    priority: int = 0  # breaks ties between equally specific rules; higher wins

    @property
    def specificity(self) -> int:
        """2 for the category, 1 for the ward: category-only (2) beats ward-only (1)."""
        return (2 if self.category != ANY else 0) + (1 if self.ward_code != ANY else 0)

    def matches(self, category: str, ward_code: str) -> bool:
        return self.category in (ANY, category) and self.ward_code in (ANY, ward_code)


@dataclass(frozen=True)
class RouteDecision:
    """The chosen agency and why: the rule that matched, or the default that applied."""

    agency: str
    rule: RoutingRule | None
    reason: str
    matching: tuple[RoutingRule, ...] = ()  # every rule that matched, best first

    @property
    def is_default(self) -> bool:
        return self.rule is None


def _check_category(category: str) -> reference.Category:
    found = reference.categories().get(category)
    if found is None:
        raise ValidationError(f"Lĩnh vực không hợp lệ: {category!r} / unknown category {category!r}")
    return found


def _check_ward(ward_code: str, city: str) -> None:
    if city not in reference.CITIES:
        raise ValidationError(
            f"Thành phố không hợp lệ: {city!r} / unknown city {city!r} "
            f"(expected one of: {', '.join(reference.CITIES)})"
        )
    if ward_code and ward_code not in reference.ward_codes(city):
        raise ValidationError(
            f"Không có xã/phường mã {ward_code!r} ở {city} / unknown ward {ward_code!r} in {city}"
        )


def validate_rule(rule: RoutingRule, city: str) -> RoutingRule:
    """Refuse a rule with an unknown category or ward (for ``city``) or an empty agency."""
    if rule.category != ANY:
        _check_category(rule.category)
    if rule.ward_code != ANY:
        if not rule.ward_code:
            raise ValidationError("Thiếu mã xã/phường (hoặc '*') / a ward code or '*' is required")
        _check_ward(rule.ward_code, city)
    else:
        _check_ward("", city)
    if not rule.agency.strip():
        raise ValidationError("Thiếu mã đơn vị / agency code is required")
    return rule


def _rank(indexed: tuple[int, RoutingRule]) -> tuple[int, int, int]:
    index, rule = indexed
    return (-rule.specificity, -rule.priority, index)


def explain(category: str, ward_code: str, rules: Iterable[RoutingRule], city: str) -> RouteDecision:
    """Route and say why: the winning rule with the other matches, or the default that applied."""
    cat = _check_category(category)
    ward = (ward_code or "").strip()
    _check_ward(ward, city)
    matching = sorted(((i, r) for i, r in enumerate(rules) if r.matches(category, ward)), key=_rank)
    if matching:
        best = matching[0][1]
        reason = (
            f"quy tắc {best.category} × {best.ward_code} (ưu tiên {best.priority}) / "
            f"rule {best.category} x {best.ward_code} (priority {best.priority})"
        )
        return RouteDecision(best.agency, best, reason, tuple(r for _, r in matching))
    if cat.scope == "place" and ward:
        return RouteDecision(
            reference.commune_agency_code(ward),
            None,
            "mặc định: UBND xã/phường nơi xảy ra sự việc / default: the ward People's Committee",
        )
    defaults = reference.default_agencies(city)
    agency = defaults.get(category)
    if agency is None:
        raise ValidationError(
            f"Không có đơn vị mặc định cho lĩnh vực {category} ở {city} / "
            f"no default agency for category {category} in {city}"
        )
    why = "lĩnh vực ngành" if cat.scope == "sector" else "chưa rõ xã/phường"
    why_en = "sector category" if cat.scope == "sector" else "ward unknown"
    return RouteDecision(agency, None, f"mặc định của thành phố ({why}) / city default ({why_en})")


def route(category: str, ward_code: str, rules: Iterable[RoutingRule], city: str) -> str:
    """The lead agency code for a ticket of ``category`` in ``ward_code`` (may be empty if unknown)."""
    return explain(category, ward_code, rules, city).agency
