"""Phone numbers, CCCD numbers and dossier codes from spoken and keyed input."""

from __future__ import annotations

from datetime import date

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.normalize import decode_cccd, normalize_cccd, normalize_dossier_code, normalize_phone

PHONES = [
    ("không chín một hai ba bốn năm sáu bảy tám", "0912345678"),
    ("số của tôi là không chín một hai ba bốn năm sáu bảy tám nhé", "0912345678"),
    ("dạ không ba tám tám chín chín bảy bảy sáu sáu ạ", "0388997766"),
    ("không chín mười hai ba trăm bốn mươi lăm sáu trăm bảy mươi tám", "0912345678"),
    ("không chín tám bẩy sáu năm bốn ba hai một", "0987654321"),
    ("không tám tám tư năm sáu bảy tám chín không", "0884567890"),
    ("không bảy không một hai ba bốn năm sáu bảy", "0701234567"),
    ("0912345678", "0912345678"),
    ("09 12 345 678", "0912345678"),
    ("0912.345.678", "0912345678"),
    ("+84 912 345 678", "0912345678"),
    ("84912345678", "0912345678"),
    ("cộng tám tư chín một hai ba bốn năm sáu bảy tám", "0912345678"),
    ("không hai bốn ba tám hai năm ba năm ba sáu", "02438253536"),
    ("024 3825 3536", "02438253536"),
    ("không hai hai năm ba tám một hai ba bốn năm", "02253812345"),
    ("01688123456", "0388123456"),
]


@pytest.mark.parametrize(("text", "phone"), PHONES)
def test_normalize_phone(text: str, phone: str) -> None:
    assert normalize_phone(text) == phone


@pytest.mark.parametrize(
    "text",
    [
        "một một ba",
        "một không hai hai",
        "chín một hai ba bốn năm sáu bảy tám",  # leading zero missing: not invented
        "không chín một hai ba bốn",
        "không một hai ba bốn năm sáu bảy tám chín",
        "tôi muốn phản ánh về rác",
        "",
    ],
)
def test_normalize_phone_rejects(text: str) -> None:
    assert normalize_phone(text) is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "không",
                "một",
                "hai",
                "ba",
                "bốn",
                "năm",
                "sáu",
                "bảy",
                "tám",
                "chín",
                "mười",
                "mươi",
                "trăm",
                "cộng",
                "số",
                "là",
                "0",
                "84",
                "912",
            ]
        ),
        max_size=16,
    )
)
def test_phone_outputs_always_valid(words: list[str]) -> None:
    phone = normalize_phone(" ".join(words))
    if phone is not None:
        parsed = phonenumbers.parse(phone, "VN")
        assert phonenumbers.is_valid_number(parsed)
        assert phone.startswith("0") and phone.isdigit() and len(phone) in (10, 11)


CCCD = [
    ("không không một không tám chín không không một hai ba bốn", "001089001234"),
    ("căn cước của tôi là không không một không tám chín không không một hai ba bốn", "001089001234"),
    ("087084000999", "087084000999"),
    ("số định danh không ba một ba không năm không không không không một hai", "031305000012"),
    ("0 7 9 2 0 1 1 2 3 4 5 6", "079201123456"),
]


@pytest.mark.parametrize(("text", "number"), CCCD)
def test_normalize_cccd(text: str, number: str) -> None:
    assert normalize_cccd(text, current_year=2026) == number


@pytest.mark.parametrize(
    "text",
    [
        "003084000999",  # 003 is not a province code
        "100084000999",
        "001299000999",  # born 2099: in the future
        "00108900123",  # 11 digits
        "0010890012345",  # 13 digits
        "không chín một hai ba bốn năm sáu bảy tám",
    ],
)
def test_normalize_cccd_rejects(text: str) -> None:
    assert normalize_cccd(text, current_year=2026) is None


def test_decode_cccd() -> None:
    info = decode_cccd("087084000999", current_year=2026)
    assert info is not None
    assert (info.province, info.sex, info.birth_year) == ("Đồng Tháp", "nam", 1984)
    info = decode_cccd("001301001234", current_year=2026)
    assert info is not None and (info.sex, info.birth_year) == ("nữ", 2001)


DOSSIERS = [
    ("hát hai sáu gạch hai sáu không chín ba mươi gạch không không mười hai", "H26-260930-0012"),
    ("mã hồ sơ hát hai sáu hai sáu không chín ba không không không một hai", "H26-260930-0012"),
    ("H26-260930-0012", "H26-260930-0012"),
    ("h26 260930 0012", "H26-260930-0012"),
    ("000.00.01.h26-260930-0012", "000.00.01.H26-260930-0012"),
    ("000.A0.01.H26-210212-9090", "000.A0.01.H26-210212-9090"),
    (
        "không không không chấm không không chấm không một chấm hát hai sáu gạch "
        "hai sáu không chín ba không gạch không không một hai",
        "000.00.01.H26-260930-0012",
    ),
    ("mã hồ sơ của tôi là hai sáu không chín ba không không không một hai", "2609300012"),
    ("2609300012", "2609300012"),
    ("260930-0012", "2609300012"),
    ("gờ một bốn gạch hai năm một hai không một gạch không không không năm", "G14-251201-0005"),
    # hesitations between the groups
    ("ờ mã hai sáu ờ một một ờ mười lăm không không chín mươi chín á em coi giùm", "2611150099"),
    ("hát hai sáu ờ gạch hai sáu không chín ba mươi ừm gạch không không mười hai", "H26-260930-0012"),
]


@pytest.mark.parametrize(("text", "code"), DOSSIERS)
def test_normalize_dossier_code(text: str, code: str) -> None:
    assert normalize_dossier_code(text, today=date(2026, 11, 22)) == code


@pytest.mark.parametrize(
    "text",
    [
        "0912345678",  # a phone number: receipt year 2009 is before the format existed
        "H26-261340-0012",  # month 13
        "H26-270101-0001",  # in the future
        "hai sáu không chín",
        "tôi muốn tra cứu hồ sơ",
    ],
)
def test_normalize_dossier_code_rejects(text: str) -> None:
    assert normalize_dossier_code(text, today=date(2026, 11, 22)) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_id_normalisers_never_crash(text: str) -> None:
    normalize_phone(text)
    normalize_cccd(text)
    normalize_dossier_code(text)
