"""Spoken Vietnamese numbers: quantities ("hai mươi mốt" = 21) and digit strings ("không chín một ...").

Vosk writes numbers as words. Two readings are common on the phone and are often mixed:
digit by digit ("không chín một hai") and in groups read as quantities ("không chín mười hai,
ba trăm bốn mươi lăm"). Numerals that are already digits ("09 12 345 678") pass through unchanged,
leading zeros included. Nothing here ever adds a digit that was not said: a token that cannot be read
as part of a number ends the number.

Grammar of a quantity (each part optional where it makes sense):
    [X tỷ] [X triệu] [X nghìn|ngàn] [D trăm] [linh|lẻ D | mười [U] | D mươi [U] | D chục | D mốt/lăm | D]
with the colloquial short forms "một trăm hai" = 120 and "hai nghìn rưỡi"-style "hai nghìn năm" = 2500
(a lone digit closing a number after trăm or a scale word counts one place lower).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nlu.normalize.text import fold, tokens

_DIGIT_WORDS = {
    "không": 0,
    "một": 1,
    "hai": 2,
    "ba": 3,
    "bốn": 4,
    "tư": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "bẩy": 7,
    "tám": 8,
    "chín": 9,
}
# Unit forms heard only after "mươi"/"mười" (hai mươi mốt, ba mươi lăm, mười lăm).
_UNIT_ONLY = {"mốt": 1, "lăm": 5, "nhăm": 5}

DIGIT = {fold(w): v for w, v in _DIGIT_WORDS.items()}
UNIT = {**{k: v for k, v in DIGIT.items() if v > 0}, **{fold(w): v for w, v in _UNIT_ONLY.items()}}
TEN = fold("mười")
TENS = fold("mươi")
CHUC = fold("chục")
HUNDRED = fold("trăm")
LINH = {fold("linh"), fold("lẻ")}
SCALES: tuple[tuple[int, frozenset[str]], ...] = (
    (1_000_000_000, frozenset({fold("tỷ"), fold("tỉ")})),
    (1_000_000, frozenset({fold("triệu")})),
    (1000, frozenset({fold("nghìn"), fold("ngàn")})),
)
_SCALE_WORDS = frozenset().union(*(names for _, names in SCALES))
NUMBER_WORDS = frozenset(DIGIT) | frozenset(UNIT) | {TEN, TENS, CHUC, HUNDRED} | LINH | _SCALE_WORDS


def is_numeral(tok: str) -> bool:
    return tok.isascii() and tok.isdigit()


def is_number_token(tok: str) -> bool:
    """True for a folded token that can be part of a spoken or written number."""
    return tok in NUMBER_WORDS or is_numeral(tok)


@dataclass(frozen=True)
class Chunk:
    """One number read from tokens[start:end]: its value and the digit string it stands for."""

    start: int
    end: int
    value: int
    digits: str
    simple: bool  # a single digit word or a numeral as written (no quantity words)


def _tail_digit(toks: list[str], j: int) -> int | None:
    """A lone non-zero digit word at j that closes the number (no number token follows)."""
    if j >= len(toks) or DIGIT.get(toks[j], 0) == 0:
        return None
    if j + 1 == len(toks) or not is_number_token(toks[j + 1]):
        return DIGIT[toks[j]]
    return None


def _lt100(toks: list[str], i: int, allow_bare: bool) -> tuple[int, int] | None:
    n = len(toks)
    if i >= n:
        return None
    t = toks[i]
    if t == TEN:
        if i + 1 < n and toks[i + 1] in UNIT:
            return 10 + UNIT[toks[i + 1]], i + 2
        return 10, i + 1
    d = DIGIT.get(t)
    if d is not None and d >= 2 and i + 1 < n:
        nxt = toks[i + 1]
        if nxt == TENS:
            if i + 2 < n and toks[i + 2] in UNIT:
                return d * 10 + UNIT[toks[i + 2]], i + 3
            return d * 10, i + 2
        if nxt == CHUC:
            return d * 10, i + 2
        if nxt in _UNIT_ONLY_FOLDED:
            return d * 10 + UNIT[nxt], i + 2
    if d is not None and d == 1 and i + 1 < n and toks[i + 1] == CHUC:
        return 10, i + 2
    if allow_bare:
        if d is not None:
            return d, i + 1
        if is_numeral(t) and len(t) <= 3:
            return int(t), i + 1
    return None


_UNIT_ONLY_FOLDED = frozenset(fold(w) for w in _UNIT_ONLY)


def _lt1000(toks: list[str], i: int, after_scale: bool) -> tuple[int, int] | None:
    n = len(toks)
    if i + 1 < n and toks[i] in DIGIT and toks[i + 1] == HUNDRED:
        value, j = DIGIT[toks[i]] * 100, i + 2
        if j + 1 < n and toks[j] in LINH and toks[j + 1] in DIGIT and DIGIT[toks[j + 1]] > 0:
            return value + DIGIT[toks[j + 1]], j + 2
        tens = _lt100(toks, j, allow_bare=False)
        if tens is not None:
            return value + tens[0], tens[1]
        tail = _tail_digit(toks, j)
        if tail is not None:
            return value + tail * 10, j + 1
        return value, j
    if after_scale:
        if i + 1 < n and toks[i] in LINH and toks[i + 1] in DIGIT and DIGIT[toks[i + 1]] > 0:
            return DIGIT[toks[i + 1]], i + 2
        return _lt100(toks, i, allow_bare=False)
    return _lt100(toks, i, allow_bare=True)


def _scaled(toks: list[str], i: int, level: int, after_scale: bool) -> tuple[int, int] | None:
    if level == len(SCALES):
        return _lt1000(toks, i, after_scale)
    mult, names = SCALES[level]
    head = _scaled(toks, i, level + 1, after_scale)
    if head is None:
        return None
    value, j = head
    if value > 0 and j < len(toks) and toks[j] in names:
        j += 1
        tail = _tail_digit(toks, j)
        if tail is not None:
            return value * mult + tail * (mult // 10), j + 1
        rest = _scaled(toks, j, level + 1, after_scale=True)
        if rest is not None and rest[0] < mult:
            return value * mult + rest[0], rest[1]
        return value * mult, j
    return value, j


def chunk_at(toks: list[str], i: int) -> Chunk | None:
    """The longest number starting at folded token i, or None."""
    if i >= len(toks):
        return None
    t = toks[i]
    if is_numeral(t) and not (i + 1 < len(toks) and toks[i + 1] in _SCALE_WORDS and len(t) <= 3):
        return Chunk(i, i + 1, int(t), t, True)
    parsed = _scaled(toks, i, 0, after_scale=False)
    if parsed is None:
        j = i + 1
        while j < len(toks) and toks[j] in LINH:
            j += 1  # "một linh linh năm": several zeros in a row
        nxt = toks[j] if j < len(toks) else ""
        if t in LINH and (nxt in DIGIT or is_numeral(nxt)):
            return Chunk(i, i + 1, 0, "0", True)  # "linh bảy linh bốn": zero in a digit string
        return None
    value, end = parsed
    simple = end == i + 1 and t in DIGIT
    return Chunk(i, end, value, str(value), simple)


def chunks(toks: list[str]) -> list[Chunk | None]:
    """Read folded tokens left to right: a Chunk per number, None for each token that is not one."""
    out: list[Chunk | None] = []
    i = 0
    while i < len(toks):
        c = chunk_at(toks, i)
        if c is None:
            out.append(None)
            i += 1
        else:
            out.append(c)
            i = c.end
    return out


def parse_digits(text: str) -> str | None:
    """The digit string of a text that is only a number ("không chín một hai" -> "0912"), else None."""
    toks = [fold(t) for t in tokens(text)]
    if not toks:
        return None
    parts = chunks(toks)
    if any(c is None for c in parts):
        return None
    return "".join(c.digits for c in parts if c is not None)


def parse_number(text: str) -> int | None:
    """The value of a text that is only a number: "một trăm linh năm" -> 105, "hai ba" -> 23, else None."""
    toks = [fold(t) for t in tokens(text)]
    if not toks:
        return None
    parts = chunks(toks)
    if any(c is None for c in parts):
        return None
    found = [c for c in parts if c is not None]
    if len(found) == 1:
        return found[0].value
    if all(c.simple for c in found):
        return int("".join(c.digits for c in found))
    return None


@dataclass(frozen=True)
class DigitRun:
    """Consecutive numbers in an utterance: token span [start, end) and the digit string they spell."""

    start: int
    end: int
    digits: str
    chunks: tuple[Chunk, ...]


def digit_runs_in_tokens(folded: list[str]) -> list[DigitRun]:
    runs: list[DigitRun] = []
    current: list[Chunk] = []
    for c in [*chunks(folded), None]:
        if c is not None:
            current.append(c)
        elif current:
            digits = "".join(x.digits for x in current)
            runs.append(DigitRun(current[0].start, current[-1].end, digits, tuple(current)))
            current = []
    return runs


def find_digit_runs(text: str) -> list[DigitRun]:
    """Every run of numbers in a longer utterance ("số của tôi là không chín ..." -> [DigitRun("09...")])."""
    return digit_runs_in_tokens([fold(t) for t in tokens(text)])


def numeralize(folded: list[str]) -> list[str]:
    """Folded tokens with every number replaced by its decimal value (for date/time patterns).

    "năm" stays a word when it means "year": before nay/ngoái/trước/sau/tới or before a year number.
    """
    out: list[str] = []
    i = 0
    year_words = {fold(w) for w in ("nay", "ngoái", "ngoai", "trước", "sau", "tới", "rồi", "kia")}
    nam = fold("năm")
    while i < len(folded):
        t = folded[i]
        if t == nam:
            nxt = chunk_at(folded, i + 1)
            if (i + 1 < len(folded) and folded[i + 1] in year_words) or (
                nxt is not None and 1900 <= nxt.value <= 2100
            ):
                out.append(t)
                i += 1
                continue
        c = chunk_at(folded, i)
        if c is None:
            out.append(t)
            i += 1
        else:
            out.append(str(c.value) if not c.simple or not is_numeral(t) else str(int(t)))
            i = c.end
    return out


# Hesitations callers put between digit groups ("không ba hai ờ năm năm năm ờ một hai ba bốn").
_HESITATIONS = frozenset(
    fold(w) for w in ("ờ", "ơ", "à", "ừ", "ừm", "ờm", "ậm", "ưm", "um", "uh", "hừm", "e", "ê")
)


def hesitations_between_numbers(folded: Sequence[str]) -> set[int]:
    """Positions of the hesitation words that stand between two number tokens."""
    skipped: set[int] = set()
    last_kept = ""
    n = len(folded)
    for i, tok in enumerate(folded):
        if tok in _HESITATIONS and last_kept and is_number_token(last_kept):
            j = i + 1
            while j < n and folded[j] in _HESITATIONS:
                j += 1
            if j < n and is_number_token(folded[j]):
                skipped.add(i)
                continue
        last_kept = tok
    return skipped


def bridge_hesitations(folded: list[str]) -> list[str]:
    """Folded tokens without the hesitation words that stand between two number tokens, so a number
    read in groups with "ờ" between them is one digit run."""
    skipped = hesitations_between_numbers(folded)
    return [tok for i, tok in enumerate(folded) if i not in skipped]
