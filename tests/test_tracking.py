"""Tracking codes: format, round trip, and the Damm check digit catching keying errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketing.domain import tracking
from ticketing.domain.tracking import CODE_LENGTH, MAX_SEQUENCE, is_valid, make_code, normalize

sequences = st.integers(min_value=1, max_value=MAX_SEQUENCE)


def test_known_damm_vector() -> None:
    # The textbook example: the check digit of 572 is 4.
    assert tracking.damm_digit("572") == 4
    assert tracking.damm_digit("5724") == 0


def test_make_code_shape() -> None:
    # first-format codes (zero-padded sequence) stay valid and keep their sequence number
    assert tracking.legacy_code(1) == "000000013" and tracking.sequence_of("000000013") == 1
    assert tracking.legacy_code(1234) == "000012340" and tracking.sequence_of("000012340") == 1234
    assert is_valid(tracking.legacy_code(9_999_999))
    # new codes never start with 0, so they never collide with a first-format code
    assert make_code(1) == "472914938" and make_code(1234) == "377023628"
    for seq in (1, 42, 1234, 9_999_999, MAX_SEQUENCE):
        code = make_code(seq)
        assert len(code) == CODE_LENGTH == 9
        assert code.isdigit()
        assert is_valid(code)
        assert tracking.sequence_of(code) == seq
        assert code[0] != "0"


def test_new_codes_are_easy_to_note_from_one_hearing() -> None:
    codes = [make_code(n) for n in range(1, 20_001)]
    assert len(set(codes)) == len(codes)
    assert sum("0000" in c for c in codes) / len(codes) < 0.001  # no long runs of zeros
    assert all(c[0] != "0" for c in codes)


@pytest.mark.parametrize("bad", [0, -1, MAX_SEQUENCE + 1])
def test_make_code_refuses_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError):
        make_code(bad)


@pytest.mark.parametrize("bad", [True, 1.0, "12"])
def test_make_code_refuses_non_int(bad: object) -> None:
    with pytest.raises(TypeError):
        make_code(bad)  # type: ignore[arg-type]


def test_normalize_and_grouping() -> None:
    code = tracking.legacy_code(1234)
    assert normalize(" 000 012-340 ") == "000012340"
    assert normalize("000.012.340") == code
    assert tracking.grouped(code) == "000 012 340"
    assert is_valid("000 012 340")
    assert is_valid("000-012-340")


@pytest.mark.parametrize(
    "text",
    ["", "12345678", "0000123400", "00001234a", "０００012340", "000000000", "000012341", "abcdefghi"],
)
def test_invalid_codes(text: str) -> None:
    assert not is_valid(text)


def test_sequence_of_refuses_invalid() -> None:
    with pytest.raises(ValueError):
        tracking.sequence_of("000012341")


@given(sequences)
def test_round_trip(seq: int) -> None:
    code = make_code(seq)
    assert is_valid(code)
    assert tracking.sequence_of(tracking.grouped(code)) == seq


@given(sequences)
def test_every_single_digit_error_is_detected(seq: int) -> None:
    code = make_code(seq)
    for i, ch in enumerate(code):
        for d in "0123456789":
            if d != ch:
                assert not is_valid(code[:i] + d + code[i + 1 :]), (code, i, d)


@given(sequences)
def test_every_adjacent_transposition_is_detected(seq: int) -> None:
    code = make_code(seq)
    for i in range(len(code) - 1):
        a, b = code[i], code[i + 1]
        if a != b:
            assert not is_valid(code[:i] + b + a + code[i + 2 :]), (code, i)


def test_detection_exhaustively_over_a_block() -> None:
    # Not only random samples: a contiguous block of 2,000 sequence numbers, every error of both kinds.
    for seq in range(1, 2001):
        code = make_code(seq)
        for i in range(CODE_LENGTH):
            for d in "0123456789":
                if d != code[i]:
                    assert not is_valid(code[:i] + d + code[i + 1 :])
            if i < CODE_LENGTH - 1 and code[i] != code[i + 1]:
                assert not is_valid(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


@given(sequences)
def test_legacy_round_trip(seq: int) -> None:
    if seq < 10**7:
        assert tracking.sequence_of(tracking.legacy_code(seq)) == seq
