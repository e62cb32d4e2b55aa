"""A report that names its ward (as web forms and the phone bot do) gets the ward's code, so routing
and reports work; an unknown or contradictory ward is refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ticketing.domain import workflow
from ticketing.domain.errors import ValidationError
from ticketing.domain.model import Caller, Place, Ticket
from ticketing.domain.tracking import make_code

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def create(place: Place, city: str = "hanoi") -> Ticket:
    return workflow.new_ticket(
        make_code(1), "phone", "field_report", "VSMT", "normal", Caller(name="An"), place,
        "Rác thải ùn ứ", "test", NOW, city=city,
    )  # fmt: skip


@pytest.mark.parametrize("name", ["Phường Hoàn Kiếm", "phường  hoàn kiếm", "Hoàn Kiếm"])
def test_ward_name_resolves_to_its_code(name: str) -> None:
    t = create(Place(ward_name=name))
    assert (t.place.ward_code, t.place.ward_name) == ("00070", "Phường Hoàn Kiếm")


def test_names_resolve_within_the_ticket_city() -> None:
    t = create(Place(ward_name="Phường Ninh Kiều"), city="cantho")
    assert t.place.ward_code == "31135"
    with pytest.raises(ValidationError, match="unknown ward"):
        create(Place(ward_name="Phường Ninh Kiều"), city="hanoi")


def test_unknown_or_contradictory_ward_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown ward"):
        create(Place(ward_name="Phường Không Tồn Tại"))
    with pytest.raises(ValidationError, match="is Phường Hoàn Kiếm"):
        create(Place(ward_code="00070", ward_name="Phường Ba Đình"))
    assert create(Place(ward_code="00070", ward_name="Hoàn Kiếm")).place.ward_name == "Phường Hoàn Kiếm"
