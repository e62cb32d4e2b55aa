"""Administrative-procedure dossier codes (mã số hồ sơ), per Thông tư 01/2018/TT-VPCP.

Full code ``V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX`` (e.g. "000.00.01.H26-260930-0012"), the short form
"H26-260930-0012" (province/ministry code, receipt date, running number) or the bare 10-digit tail
"2609300012". Each is returned in that canonical shape (upper case, dots and dashes). Spoken input uses
letter names ("hát hai sáu" = H26, "gờ mười bốn" = G14), "chấm" for dots and "gạch (ngang)" for dashes.
The receipt date must be a real date from 2018 (when the format started) to about today.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from nlu.normalize.numbers import chunks, hesitations_between_numbers
from nlu.normalize.text import fold, tokens

_LETTER_NAMES = {
    "H": ("hát", "hắt", "hát", "hờ", "hắc", "h"),
    "G": ("gờ", "giê", "gê", "g"),
    "A": ("a",),
    "B": ("bê", "bờ", "b"),
    "C": ("xê", "cờ", "c"),
    "D": ("đê", "dê", "d"),
}
_LETTERS = {fold(name): letter for letter, names in _LETTER_NAMES.items() for name in names}
_DOT = {fold("chấm")}
_DASH = {fold("gạch"), fold("ngang"), fold("nối")}

_SEP = r"[\s.\-/]*"
# A receipt date up to about a month after the caller's "today" is still read: one misheard digit or a
# wrong clock must not lose the whole code (the dialogue reads it back); dates further ahead are not codes.
_CLOCK_SLACK = timedelta(days=35)
_FULL_RE = re.compile(
    rf"(?<![0-9A-Z])([0-9A-Z]{{3}}){_SEP}([0-9A-Z]{{2}}){_SEP}([0-9A-Z]{{2}}){_SEP}([GH])\s*(\d{{2}})"
    rf"{_SEP}(\d{{6}}){_SEP}(\d{{4}})(?![0-9])"
)
_SHORT_RE = re.compile(rf"(?<![0-9A-Z.])([GH])\s*(\d{{2}}){_SEP}(\d{{6}}){_SEP}(\d{{4}})(?![0-9])")
_TAIL_RE = re.compile(r"(?<![0-9A-Z])(\d{6})[\s\-]*(\d{4})(?![0-9])")


def _valid_receipt_date(yymmdd: str, today: date | None) -> bool:
    try:
        received = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return False
    if received.year < 2018:
        return False
    return today is None or received <= today + _CLOCK_SLACK


def _spoken_to_keyed(text: str) -> str:
    """Letter names, numbers and separator words -> the keyed form; other words become spaces."""
    raw = tokens(text)
    folded = [fold(t) for t in raw]
    skipped = hesitations_between_numbers(folded)  # "hai sáu ờ một một ờ mười lăm"
    raw = [t for i, t in enumerate(raw) if i not in skipped]
    folded = [t for i, t in enumerate(folded) if i not in skipped]
    out: list[str] = []
    parts = chunks(folded)
    i = 0
    for c in parts:
        if c is not None:
            out.append(c.digits)
            i = c.end
            continue
        tok = folded[i]
        if tok in _LETTERS:
            out.append(_LETTERS[tok])
        elif tok in _DOT:
            out.append(".")
        elif tok in _DASH:
            out.append("-")
        elif raw[i].isascii() and raw[i].isalpha() and len(raw[i]) <= 2:
            out.append(raw[i].upper())
        else:
            out.append(" ")
        i += 1
    return "".join(out)


def _search(keyed: str, today: date | None) -> str | None:
    for m in _FULL_RE.finditer(keyed):
        unit1, unit2, unit3, letter, prov, yymmdd, seq = m.groups()
        if _valid_receipt_date(yymmdd, today):
            return f"{unit1}.{unit2}.{unit3}.{letter}{prov}-{yymmdd}-{seq}"
    for m in _SHORT_RE.finditer(keyed):
        letter, prov, yymmdd, seq = m.groups()
        if _valid_receipt_date(yymmdd, today):
            return f"{letter}{prov}-{yymmdd}-{seq}"
    for m in _TAIL_RE.finditer(keyed):
        yymmdd, seq = m.groups()
        if _valid_receipt_date(yymmdd, today):
            return yymmdd + seq
    return None


def normalize_dossier_code(text: str, today: date | None = None) -> str | None:
    """A dossier code said or keyed in ``text`` -> canonical form, or None.

    >>> normalize_dossier_code("hát hai sáu gạch hai sáu không chín ba mươi gạch không không mười hai")
    'H26-260930-0012'
    >>> normalize_dossier_code("000.00.01.h26-260930-0012")
    '000.00.01.H26-260930-0012'
    """
    upper = text.upper()
    found = _search(upper, today)
    if found is not None:
        return found
    return _search(_spoken_to_keyed(text), today)
