"""Tracking codes (mã số theo dõi): digits only, short, with a Damm check digit.

A code is read out by the voice bot and keyed back on a phone keypad, so it holds only digits and is
short: 9 digits = an 8-digit body + 1 Damm check digit, read and printed in three groups of three
("382 917 465"). The body is the database sequence number spread over 10,000,000..99,999,999 by a
fixed bijection (multiplication by a unit modulo 90,000,000): it never starts with 0 and rarely holds
a run of zeros, so a caller can write it down from one hearing (docs/decisions/160-tracking-code-reading.md).
Codes of the first format (the zero-padded sequence, "000012340") stay valid and keep their sequence:
their body starts with 0, which a spread body never does. Up to 89,999,999 tickets fit (centuries at
the volumes of the Vietnamese city hotlines). The Damm algorithm detects every single-digit error and
every adjacent transposition (see docs/decisions/001-damm-check-digit.md). No date is embedded: callers
would have to key more digits for no gain, and the database already holds the creation time.
"""

from __future__ import annotations

SEQUENCE_DIGITS = 8
CODE_LENGTH = SEQUENCE_DIGITS + 1
_OFFSET = 10**7  # spread bodies start at 10,000,000: never with a 0, unlike first-format codes
_SPAN = 10**SEQUENCE_DIGITS - _OFFSET
_SPREAD = 37_291_493  # coprime to 90,000,000 (= 2^7 * 3^2 * 5^7): n -> n * _SPREAD mod _SPAN is a bijection
_UNSPREAD: int = pow(_SPREAD, -1, _SPAN)
MAX_SEQUENCE = _SPAN - 1

# The weakly totally anti-symmetric quasigroup of order 10 from H. Michael Damm's thesis (2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_SEPARATORS = str.maketrans("", "", " \t-._/")


def damm_digit(digits: str) -> int:
    """The Damm interim digit of a string of ASCII digits; appending it makes the whole string check to 0."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def make_code(sequence: int) -> str:
    """The tracking code for a database sequence number (1 .. 99,999,999)."""
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise TypeError("sequence must be an int")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence must be between 1 and {MAX_SEQUENCE}, got {sequence}")
    body = str(_OFFSET + sequence * _SPREAD % _SPAN)
    return body + str(damm_digit(body))


def legacy_code(sequence: int) -> str:
    """The first-format code of a sequence number (zero-padded, e.g. 1234 -> ``"000012340"``); such
    codes were issued before the spread format and stay valid."""
    body = f"{sequence:0{SEQUENCE_DIGITS}d}"
    return body + str(damm_digit(body))


def normalize(text: str) -> str:
    """Strip spaces, dashes, dots, slashes and underscores: ``"000 012 340"`` -> ``"000012340"``."""
    return text.strip().translate(_SEPARATORS)


def is_valid(code: str) -> bool:
    """True for a well-formed code (after :func:`normalize`): 9 digits, right check digit, sequence >= 1."""
    code = normalize(code)
    if len(code) != CODE_LENGTH or not code.isascii() or not code.isdigit():
        return False
    return damm_digit(code) == 0 and int(code[:SEQUENCE_DIGITS]) >= 1


def sequence_of(code: str) -> int:
    """The sequence number inside a valid code; raises ValueError for an invalid one."""
    code = normalize(code)
    if not is_valid(code):
        raise ValueError(f"invalid tracking code {code!r}")
    body = int(code[:SEQUENCE_DIGITS])
    if code[0] == "0":  # first format: the zero-padded sequence itself
        return body
    return int((body - _OFFSET) * _UNSPREAD % _SPAN)


def grouped(code: str) -> str:
    """Groups of three for reading out and printing: ``"000012340"`` -> ``"000 012 340"``."""
    code = normalize(code)
    return " ".join(code[i : i + 3] for i in range(0, len(code), 3))
