"""Spoken numbers and digit strings: table tests and fuzzing (never crash, never invent digits)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.normalize import find_digit_runs, parse_digits, parse_number

QUANTITIES = [
    ("không", 0),
    ("một", 1),
    ("tư", 4),
    ("bẩy", 7),
    ("mười", 10),
    ("mười một", 11),
    ("mười lăm", 15),
    ("mười tư", 14),
    ("hai mươi", 20),
    ("hai mươi mốt", 21),
    ("hai mươi tư", 24),
    ("ba mươi lăm", 35),
    ("bốn mươi nhăm", 45),
    ("năm mươi", 50),
    ("chín mươi chín", 99),
    ("hai mốt", 21),
    ("ba lăm", 35),
    ("hai chục", 20),
    ("một trăm", 100),
    ("một trăm linh năm", 105),
    ("một trăm lẻ một", 101),
    ("một trăm hai", 120),
    ("ba trăm bốn mươi lăm", 345),
    ("chín trăm chín mươi chín", 999),
    ("một nghìn", 1000),
    ("hai nghìn không trăm hai mươi sáu", 2026),
    ("hai nghìn hai mươi sáu", 2026),
    ("hai nghìn linh năm", 2005),
    ("hai ngàn", 2000),
    ("hai nghìn năm", 2500),
    ("mười hai nghìn", 12000),
    ("một trăm nghìn", 100000),
    ("ba triệu hai trăm nghìn", 3200000),
    ("một tỷ", 1_000_000_000),
    ("hai ba", 23),
    ("20 nghìn", 20000),
    ("2026", 2026),
]


@pytest.mark.parametrize(("text", "value"), QUANTITIES)
def test_parse_number(text: str, value: int) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "mươi", "trăm", "mốt", "lăm", "xin chào", "hai con mèo", "linh"])
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


DIGITS = [
    ("không chín một hai ba bốn năm sáu bảy tám", "0912345678"),
    ("không chín mười hai ba trăm bốn mươi lăm sáu trăm bảy mươi tám", "0912345678"),
    ("09 12 345 678", "0912345678"),
    ("0912345678", "0912345678"),
    ("không chín 12 345 sáu bảy tám", "0912345678"),
    ("không không một", "001"),
    ("không tám tám tư", "0884"),
    ("bẩy bẩy", "77"),
    ("không, chín. một - hai", "0912"),
    ("hai mươi mốt", "21"),
    ("linh bảy linh bốn linh năm", "070405"),
]


@pytest.mark.parametrize(("text", "digits"), DIGITS)
def test_parse_digits(text: str, digits: str) -> None:
    assert parse_digits(text) == digits


def test_parse_digits_rejects_words() -> None:
    assert parse_digits("số của tôi là không chín") is None
    assert parse_digits("") is None


def test_find_digit_runs_in_utterance() -> None:
    runs = find_digit_runs("số điện thoại của tôi là không chín một hai ba bốn năm sáu bảy tám nhé")
    assert [r.digits for r in runs] == ["0912345678"]
    runs = find_digit_runs("nhà số mười hai ngõ ba trăm linh năm")
    assert [r.digits for r in runs] == ["12", "305"]


_DIGIT_WORD = {
    "không": "0", "một": "1", "hai": "2", "ba": "3", "bốn": "4", "tư": "4", "năm": "5",
    "sáu": "6", "bảy": "7", "bẩy": "7", "tám": "8", "chín": "9",
}  # fmt: skip
_SYLLABLES = [
    *_DIGIT_WORD, "mươi", "mười", "mốt", "lăm", "nhăm", "linh", "lẻ", "trăm", "nghìn", "ngàn", "triệu", "tỷ",
    "chục", "số", "là", "của", "tôi", "điện", "thoại", "phường", "rác", "hôm", "qua", "giờ", "ạ", "à",
    "xin", "chào", "gạch", "chấm", "hát", "cộng", "rưỡi", "kém", "thứ", "ngày", "tháng", "đ", "ư", "",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list(_DIGIT_WORD)), min_size=1, max_size=14))
def test_digit_by_digit_is_exact(words: list[str]) -> None:
    """A digit-by-digit reading gives exactly the digits said, in order, leading zeros kept."""
    assert parse_digits(" ".join(words)) == "".join(_DIGIT_WORD[w] for w in words)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_SYLLABLES), max_size=20))
def test_random_syllables_never_crash_or_invent(words: list[str]) -> None:
    text = " ".join(words)
    digits = parse_digits(text)
    number = parse_number(text)
    runs = find_digit_runs(text)
    if not any(w in _DIGIT_WORD or w == "mười" for w in words):
        assert digits is None and number is None and runs == []
    # Upper bound of digits each word can stand for: a digit 1, "mười"/"mươi" 2, a scale word its zeros.
    budget = sum(_DIGIT_BUDGET.get(w, 0) for w in words)
    if digits is not None:
        assert digits.isdigit()
        assert len(digits) <= budget
    said = {_DIGIT_WORD[w] for w in words if w in _DIGIT_WORD}
    said |= {_UNIT_ONLY[w] for w in words if w in _UNIT_ONLY}
    for run in runs:
        assert run.digits.isdigit()
        assert len(run.digits) <= budget
        # zeros come from tens/hundreds/scales, "1" from "mười"; every other digit was said
        assert set(run.digits) <= said | {"0", "1"}


_UNIT_ONLY = {"mốt": "1", "lăm": "5", "nhăm": "5"}
_DIGIT_BUDGET = {
    **dict.fromkeys(_DIGIT_WORD, 1), **dict.fromkeys(_UNIT_ONLY, 1), "mười": 2, "mươi": 1, "chục": 1,
    "trăm": 2, "nghìn": 3, "ngàn": 3, "triệu": 6, "tỷ": 9, "linh": 1, "lẻ": 1,
}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_unicode_never_crashes(text: str) -> None:
    parse_digits(text)
    parse_number(text)
    find_digit_runs(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4), min_size=1, max_size=6))
def test_numerals_pass_through_unchanged(groups: list[str]) -> None:
    assert parse_digits(" ".join(groups)) == "".join(groups)
