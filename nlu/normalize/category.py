"""Feedback category (lĩnh vực) from what the caller says, by a Vietnamese keyword lexicon.

The lexicon (nlu/data/category_lexicon.tsv) maps caller phrases to category codes of
``reference.categories()`` with a weight. Matching is on tone-folded syllables, longest
phrase first without overlaps; the code with the highest total wins. A single weak hint (weight 1,
e.g. "đường") is not enough: without a clear signal the answer is None. When nothing matches, the
lexicon is tried once more without diacritics, for ASR output that lost them ("rac thai chat dong").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from nlu.normalize.text import PhraseIndex, ascii_key, fold, strip_diacritics, tokens
from reference import categories

_MIN_SCORE = 2
BLOCKER = "-"
# When the shipped category list lacks a code the lexicon knows, report under the closest existing
# category with the same first-line handler (fire safety is handled by the police, like public order).
FALLBACK_CODES = {"PCCC": "ANTT"}


@cache
def resolve_code(code: str) -> str | None:
    """``code`` if the shipped category list has it, else its fallback, else None."""
    known = categories()
    if code in known:
        return code
    fallback = FALLBACK_CODES.get(code)
    return fallback if fallback in known else None


@dataclass(frozen=True)
class CategoryScore:
    code: str
    score: int
    phrases: tuple[str, ...]


@lru_cache(maxsize=1)
def lexicon() -> tuple[tuple[str, int, str], ...]:
    """(code, weight, phrase) rows of the shipped lexicon."""
    text = resources.files("nlu").joinpath("data/category_lexicon.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, weight, phrase = line.split("\t")
        rows.append((code, int(weight), phrase))
    return tuple(rows)


@lru_cache(maxsize=1)
def _index() -> PhraseIndex[tuple[str, int, str]]:
    return PhraseIndex((phrase, (code, weight, phrase)) for code, weight, phrase in lexicon())


@lru_cache(maxsize=1)
def _ascii_index() -> PhraseIndex[tuple[str, int, str]]:
    return PhraseIndex((ascii_key(phrase), (code, weight, phrase)) for code, weight, phrase in lexicon())


_TONE_LETTERS = frozenset("fsxrj")


def _unfold_ascii(key: str) -> str:
    """A folded syllable without its tone letter and vowel marks: "racs" -> "rac", "đươngf" -> "duong"."""
    if len(key) > 1 and key[-1] in _TONE_LETTERS and key.isalpha():
        key = key[:-1]
    return strip_diacritics(key)


_PLAIN_SHARE = 0.7


def _lost_diacritics(folded: Sequence[str]) -> bool:
    """Most syllables carry no tone or vowel mark: the text was written or heard without them."""
    words = [t for t in folded if t.isalpha()]
    plain = sum(1 for t in words if t.isascii() and t[-1] not in _TONE_LETTERS)
    return len(words) >= 3 and plain >= _PLAIN_SHARE * len(words)


def score_categories(folded: Sequence[str]) -> list[CategoryScore]:
    """Every category with a positive score, best first."""
    ranked = _score(folded, _index())
    if (not ranked or ranked[0].score < _MIN_SCORE) and _lost_diacritics(folded):
        plain = _score([_unfold_ascii(t) for t in folded], _ascii_index())
        if plain and plain[0].score >= _MIN_SCORE:
            return plain
    return ranked


def _score(folded: Sequence[str], index: PhraseIndex[tuple[str, int, str]]) -> list[CategoryScore]:
    totals: dict[str, int] = {}
    best_single: dict[str, int] = {}
    first_at: dict[str, int] = {}
    phrases: dict[str, list[str]] = {}
    used_until = 0
    for start, end, payload in index.matches(folded):
        if start < used_until:
            continue
        used_until = end
        raw_code, weight, phrase = payload
        code = None if raw_code == BLOCKER else resolve_code(raw_code)
        if code is None:
            continue
        totals[code] = totals.get(code, 0) + weight
        best_single[code] = max(best_single.get(code, 0), weight)
        first_at.setdefault(code, start)
        phrases.setdefault(code, []).append(phrase)
    ranked = sorted(totals, key=lambda c: (-totals[c], -best_single[c], first_at[c]))
    return [CategoryScore(c, totals[c], tuple(phrases[c])) for c in ranked]


def classify_category_tokens(folded: Sequence[str]) -> str | None:
    ranked = score_categories(folded)
    if not ranked or ranked[0].score < _MIN_SCORE:
        return None
    return ranked[0].code


def classify_category(text: str) -> str | None:
    """The category code for a report: "có người đổ trộm rác ra đầu ngõ" -> "VSMT", or None."""
    return classify_category_tokens([fold(t) for t in tokens(text)])
