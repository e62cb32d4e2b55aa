"""Pure helpers of the dialogue engine: yes/no, names, content, digits, scope, prompts."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.dialogue.draft import Draft
from nlu.dialogue.prompts import render, template_names, time_vi
from nlu.dialogue.scope import asks_report_status, out_of_scope
from nlu.dialogue.slots import (
    apply_entities,
    digits_vi,
    field_named,
    is_dossier_tail,
    is_phone,
    keyed_digits,
    name_from_answer,
    phone_vi,
    spoken_digits,
    yes_no,
)
from nlu.normalize.content import report_content


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("có", True),
        ("dạ đúng rồi", True),
        ("vâng", True),
        ("không", False),
        ("không phải", False),
        ("chưa đúng", False),
        ("sai rồi", False),
        ("phường hoàn kiếm", None),
    ],
)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert yes_no(text) is expected


def test_field_named() -> None:
    assert field_named("không phải, số điện thoại là 0987654321") == "phone"
    assert field_named("tên sai rồi") == "name"
    assert field_named("địa chỉ chưa đúng") == "ward"
    assert field_named("sai rồi") is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("tôi tên là nguyễn văn an", "Nguyễn Văn An"),
        ("dạ em là trần thị bích ngọc ạ", "Trần Thị Bích Ngọc"),
        ("lê hoa", "Lê Hoa"),
        ("không", ""),
        ("số 5 ngõ 12", ""),
        ("tôi không muốn nói tên của tôi cho tổng đài", ""),
    ],
)
def test_name_from_answer(text: str, name: str) -> None:
    assert name_from_answer(text) == name


def test_content_strips_the_preamble_and_keeps_the_callers_words() -> None:
    text = "Alo tôi muốn phản ánh về việc đèn đường ở ngõ 7 Thái Hà bị hỏng cả tuần"
    assert report_content(text) == "Đèn đường ở ngõ 7 Thái Hà bị hỏng cả tuần"
    assert report_content("tôi muốn phản ánh") == ""


def test_digits() -> None:
    assert spoken_digits("không chín một hai ba bốn năm sáu bảy tám") == "0912345678"
    assert spoken_digits("số 09 12 linh năm") == "091205"
    assert keyed_digits("0912345678#") == "0912345678"
    assert is_phone("0912345678") and is_phone("02438251234") and not is_phone("091234567")
    assert digits_vi("109") == "một không chín"
    assert phone_vi("0912345678") == "không chín một hai, ba bốn năm, sáu bảy tám"


def test_dossier_tail() -> None:
    assert is_dossier_tail("2611200012", date(2026, 11, 22))
    assert not is_dossier_tail("2613200012")  # month 13
    assert not is_dossier_tail("2712310001", date(2026, 11, 22))  # in the future
    assert not is_dossier_tail("26112000")


def test_entities_correct_earlier_values() -> None:
    d = Draft(phone="0912345678", phone_confirmed=False)
    d = apply_entities(d, {"phone": "0987654321", "category": "HCC", "urgent": "true", "time": "2026-11-20"})
    assert (d.phone, d.phone_confirmed, d.kind, d.urgent, d.incident_time) == (
        "0987654321",
        True,
        "procedure_report",
        True,
        "2026-11-20",
    )
    assert apply_entities(d, {}) is d


def test_scope() -> None:
    assert out_of_scope("bên em đang có chương trình khuyến mãi") == "advertising"
    assert out_of_scope("đồ ngu") == "insult"
    assert out_of_scope("tôi có tài liệu mật muốn cung cấp") == "state_secret"
    # reporting illegal advertising is a normal report, not advertising
    assert out_of_scope("biển quảng cáo trái phép che hết vỉa hè") is None
    assert out_of_scope("nguồn nước nhà tôi bị bẩn") is None
    assert asks_report_status("tôi muốn hỏi kết quả xử lý phản ánh hôm trước")
    assert asks_report_status("tra mã số theo dõi")
    assert not asks_report_status("tôi muốn phản ánh rác thải")


def test_every_template_renders_on_one_line() -> None:
    d = Draft(
        name="A", phone="0912345678", ward="Phường Hoàn Kiếm", content="x", incident_time="2026-11-22T21:00"
    )
    from nlu.dialogue.events import DossierResult, TicketStatus
    from nlu.knowledge import load_procedures

    context = {
        "hotline": "1022",
        "question": "Q?",
        "phone": "0912345678",
        "d": d,
        "code": "000012340",
        "reason": "caller_request",
        "r": DossierResult("x", True, "Đang xử lý", "", "2026-11-25"),
        "retry": True,
        "p": load_procedures()[0],
        "taken": ["name", "phone"],
    }
    names = template_names()
    assert len(names) >= 30
    for name in names:
        if name.startswith("ticket_status"):
            text = render(name, **{**context, "r": TicketStatus("000012340", True, "Mới tạo")})
        else:
            text = render(name, **context)
        assert text and "\n" not in text and "{" not in text, name


def test_time_vi() -> None:
    assert time_vi("2026-11-22T21:05") == "21 giờ 05 ngày 22 tháng 11 năm 2026"
    assert time_vi("2026-11-20") == "ngày 20 tháng 11 năm 2026"
    assert time_vi("tối qua") == "tối qua"


@given(st.text(max_size=60))
def test_helpers_never_crash_and_never_invent_digits(text: str) -> None:
    digits = spoken_digits(text)
    assert set(digits) <= set("0123456789")
    yes_no(text)
    field_named(text)
    name_from_answer(text)
    report_content(text)
    report_content(text, "Nguyễn Văn An")
    out_of_scope(text)
    assert len(keyed_digits(text)) == sum(ch in "0123456789" for ch in text)
    assert is_phone(keyed_digits(text)) == is_phone(keyed_digits(text) or "x")


def test_tracking_codes_are_read_in_groups_and_zero_runs_are_counted() -> None:
    from nlu.dialogue.slots import code_vi, spoken_digits

    assert code_vi("382917465") == "ba tám hai, chín một bảy, bốn sáu năm"
    assert code_vi("000000013") == "bảy số không, một ba"  # a first-format code
    assert code_vi("000012340") == "bốn số không, một hai ba, bốn không"
    for code in ("382917465", "000000013", "000012340"):
        assert spoken_digits(code_vi(code)) == code
