"""Shared text helpers for the normalisers: tokenising ASR output, folding spelling variants, diacritics.

Vosk emits lowercase syllables separated by spaces; keyed or typed input may carry digits, punctuation
and either tone-mark placement ("hoà" / "hòa"). ``fold`` gives one key per syllable whatever the
placement, so lexicons can be written in natural spelling and matched against any input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

_TOKEN_RE = re.compile(r"\d+|[^\W\d_]+")

# Combining tone marks (thanh điệu): huyền, sắc, ngã, hỏi, nặng. Vowel-quality marks (â, ă, ơ, ư) are kept.
_TONES = {"\u0300": "f", "\u0301": "s", "\u0303": "x", "\u0309": "r", "\u0323": "j"}


def clean(text: str) -> str:
    """NFC, lower case, punctuation to spaces, single spaces."""
    text = unicodedata.normalize("NFC", text).lower()
    return " ".join(_TOKEN_RE.findall(text))


def tokens(text: str) -> list[str]:
    """Lowercase syllables and digit runs, in order; punctuation and symbols are dropped."""
    return _TOKEN_RE.findall(unicodedata.normalize("NFC", text).lower())


def fold(token: str) -> str:
    """One key per syllable regardless of tone-mark placement: the tone moves to the end (telex letter).

    ``fold("hòa") == fold("hoà") == "hoaf"``; vowel qualities stay (``fold("mười") == "mươif"``).
    No Vietnamese syllable ends in f/s/x/r/j, so keys never collide with toneless syllables.
    """
    decomposed = unicodedata.normalize("NFD", token.lower())
    tone = ""
    base = []
    for ch in decomposed:
        mark = _TONES.get(ch)
        if mark is None:
            base.append(ch)
        elif not tone:
            tone = mark
    return unicodedata.normalize("NFC", "".join(base)) + tone


def folded_tokens(text: str) -> list[str]:
    return [fold(t) for t in tokens(text)]


def strip_diacritics(text: str) -> str:
    """Remove every diacritic (tones and vowel marks) and map đ to d: "Hoàn Kiếm" -> "Hoan Kiem"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def ascii_key(text: str) -> str:
    """Lowercase, diacritic-free, punctuation-free key: "Phường Văn Miếu" -> "phuong van mieu"."""
    return " ".join(tokens(strip_diacritics(text)))


class PhraseIndex(Generic[T]):
    """Finds many multi-syllable phrases in a folded token list in one pass (indexed by first syllable)."""

    def __init__(self, phrases: Iterable[tuple[str, T]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], T]]] = {}
        for phrase, payload in phrases:
            key = tuple(folded_tokens(phrase))
            if key:
                self._by_first.setdefault(key[0], []).append((key, payload))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))  # longest first

    def matches(self, folded: Sequence[str]) -> list[tuple[int, int, T]]:
        """All (start, end, payload) matches; at each position only the longest phrase counts."""
        out: list[tuple[int, int, T]] = []
        n = len(folded)
        for i, tok in enumerate(folded):
            for key, payload in self._by_first.get(tok, ()):
                end = i + len(key)
                if end <= n and tuple(folded[i:end]) == key:
                    out.append((i, end, payload))
                    break
        return out


# A Vietnamese syllable without diacritics: optional onset, 1-3 vowels, optional coda.
_SYLLABLE_RE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|dz|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?"
)
# Loanwords and letters callers use on the phone, as Vosk writes them.
_LOANWORDS = frozenset(
    ("alo", "ok", "oke", "okay", "hello", "bye", "online", "karaoke", "internet", "wifi", "zalo", "vneid",
     "cccd", "cmnd", "sđt", "container", "grab", "taxi", "bar", "email", "app")
)  # fmt: skip
_MIN_VIETNAMESE_SHARE = 0.6


def is_vietnamese_syllable(token: str) -> bool:
    """True for a token shaped like a Vietnamese syllable ("nguyễn", "khong") or a written number."""
    if token.isascii() and token.isdigit():
        return True
    if strip_diacritics(token.lower()) in _LOANWORDS or len(token) == 1:
        return True
    return _SYLLABLE_RE.fullmatch(strip_diacritics(token.lower())) is not None


def has_vietnamese_signal(text: str) -> bool:
    """Whether the text reads as Vietnamese: most tokens are Vietnamese syllables.

    A garbled ASR turn (another language's model, noise read as words: "노모리 편이다 결여") has none,
    and must be treated as not understood rather than as a report.
    """
    toks = tokens(text)
    if not toks:
        return False
    share = sum(is_vietnamese_syllable(t) for t in toks) / len(toks)
    return share >= _MIN_VIETNAMESE_SHARE
