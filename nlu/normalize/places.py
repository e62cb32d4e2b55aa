"""Ward/commune gazetteer: find the official unit a caller names, tolerant of ASR slips.

Built lazily, once per process, from the units the project ships (``reference``). A name is
matched on tone-folded syllables, then without diacritics ("hoan kiem"), then fuzzily with rapidfuzz
(one or two wrong letters or a wrong syllable: "hoàn kím", "sóc sân"). "phường"/"xã"/"đặc khu" are
optional; fuzzy matching is only tried right after such a word or when the whole answer is the name,
so ordinary words in a long utterance are not mistaken for places. Names shared by several cities
resolve to the configured city.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from nlu.normalize.text import fold, strip_diacritics, tokens
from reference import CITIES, Unit, units


@dataclass(frozen=True)
class WardMatch:
    """A ward/commune found in text: official name, NSO code, match score 0-100, token span."""

    name: str
    code: str
    score: float
    city: str
    unit_type: str
    short_name: str
    start: int
    end: int


@dataclass(frozen=True)
class _Gazetteer:
    by_folded: dict[tuple[str, ...], tuple[Unit, ...]]
    by_ascii: dict[str, tuple[Unit, ...]]
    ascii_names: tuple[str, ...]
    max_len: int


def _aliases(unit: Unit) -> list[str]:
    names = [unit.short_name]
    if " - " in unit.short_name:
        names.extend(part.strip() for part in unit.short_name.split(" - "))
    return names


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    by_folded: dict[tuple[str, ...], list[Unit]] = {}
    by_ascii: dict[str, list[Unit]] = {}
    for city in CITIES:
        for unit in units(city):
            for alias in _aliases(unit):
                key = tuple(fold(t) for t in tokens(alias))
                by_folded.setdefault(key, []).append(unit)
                by_ascii.setdefault(" ".join(tokens(strip_diacritics(alias))), []).append(unit)
    return _Gazetteer(
        {k: tuple(v) for k, v in by_folded.items()},
        {k: tuple(v) for k, v in by_ascii.items()},
        tuple(by_ascii),
        max(len(k) for k in by_folded),
    )


_PHUONG = {fold("phường"), "phuong"}
_XA = {fold("xã")}
_DAC, _KHU = fold("đặc"), fold("khu")
_NOT_AFTER_ANCHOR = {
    fold(w) for w in ("hội", "tôi", "em", "mình", "này", "đó", "nào", "ấy", "viên", "đội", "trưởng")
}
_STREET_WORDS = {fold(w) for w in ("đường", "phố", "ngõ", "ngách", "hẻm", "kiệt", "chợ", "cầu", "bến")}
_LOCATIVES = {fold(w) for w in ("ở", "tại", "thuộc", "vực", "bàn", "về", "đến", "qua", "gần", "bên")}
_FILLERS = {
    fold(w)
    for w in ("dạ", "vâng", "ạ", "ở", "tại", "thuộc", "là", "nhé", "thì", "ừ", "à", "địa", "bàn",
              "khu", "vực", "tôi", "em", "nhà", "sống", "của", "ấy", "đó", "bên")
}  # fmt: skip
_FUZZY_CUTOFF_ANCHORED = 75.0
_FUZZY_CUTOFF_ANSWER = 82.0


def _anchor_type(folded: Sequence[str], i: int) -> tuple[str, int] | None:
    """("phường"|"xã"|"đặc khu", index after the anchor word) when a unit-type word is at i."""
    if folded[i] in _PHUONG:
        return "phường", i + 1
    if folded[i] in _XA:
        return "xã", i + 1
    if folded[i] == _DAC and i + 1 < len(folded) and folded[i + 1] == _KHU:
        return "đặc khu", i + 2
    return None


def _pick(candidates: Sequence[Unit], said_type: str | None, city: str | None) -> Unit:
    def rank(u: Unit) -> tuple[bool, bool]:
        return (u.city == city, said_type is not None and u.unit_type == said_type)

    return max(candidates, key=rank)


def _exact(
    gz: _Gazetteer, folded: Sequence[str], ascii_toks: Sequence[str], i: int, j: int
) -> tuple[tuple[Unit, ...], float] | None:
    found = gz.by_folded.get(tuple(folded[i:j]))
    if found:
        return found, 100.0
    found = gz.by_ascii.get(" ".join(ascii_toks[i:j]))
    if found:
        return found, 95.0
    return None


def _close_enough(query: str, name: str) -> bool:
    """Same number of syllables and, for longer names, at least one syllable heard right."""
    q, n = query.split(), name.split()
    if len(q) != len(n):
        return False
    return len(n) == 1 or any(a == b for a, b in zip(q, n, strict=True))


def _fuzzy(
    gz: _Gazetteer, ascii_toks: Sequence[str], i: int, j: int, cutoff: float
) -> tuple[tuple[Unit, ...], float] | None:
    query = " ".join(ascii_toks[i:j])
    if len(query) < 3:
        return None
    hits = process.extract(query, gz.ascii_names, scorer=fuzz.ratio, score_cutoff=cutoff, limit=5)
    for name, score, _ in hits:
        if _close_enough(query, name):
            return gz.by_ascii[name], min(float(score), 94.0)
    return None


def _best_at(
    gz: _Gazetteer,
    folded: Sequence[str],
    ascii_toks: Sequence[str],
    start: int,
    said_type: str | None,
    city: str | None,
    fuzzy_cutoff: float | None,
    end_limit: int | None = None,
) -> WardMatch | None:
    best: tuple[float, int, WardMatch] | None = None
    limit = min(len(folded), start + gz.max_len) if end_limit is None else end_limit
    for j in range(start + 1, limit + 1):
        hit = _exact(gz, folded, ascii_toks, start, j)
        if hit is None and fuzzy_cutoff is not None:
            hit = _fuzzy(gz, ascii_toks, start, j, fuzzy_cutoff)
        if hit is None:
            continue
        candidates, score = hit
        unit = _pick(candidates, said_type, city)
        rank = score + (5 if unit.city == city else 0) + (2 if unit.unit_type == said_type else 0)
        match = WardMatch(unit.name, unit.code, score, unit.city, unit.unit_type, unit.short_name, start, j)
        if best is None or (rank, j) > (best[0], best[1]):
            best = (rank, j, match)
    return None if best is None else best[2]


def find_ward(text: str, city: str | None = None) -> WardMatch | None:
    """The ward/commune named in ``text`` (an answer or a longer utterance), or None.

    >>> find_ward("ở phường hoàn kiếm gần hồ gươm").name
    'Phường Hoàn Kiếm'
    """
    raw = tokens(text)
    return find_ward_in_tokens(raw, [fold(t) for t in raw], city)


def find_ward_in_tokens(
    raw: Sequence[str], folded: Sequence[str], city: str | None = None, answer: bool = True
) -> WardMatch | None:
    """As find_ward; ``answer=False`` (inside a free utterance) allows no fuzzy match of the whole text."""
    if not folded:
        return None
    gz = _gazetteer()
    ascii_toks = [strip_diacritics(t) for t in raw]
    best: WardMatch | None = None

    def better(m: WardMatch | None) -> None:
        nonlocal best
        if m is None:
            return
        key = (m.score + (5 if m.city == city else 0), m.end - m.start)
        if best is None or key > (best.score + (5 if best.city == city else 0), best.end - best.start):
            best = m

    # 1. After "phường" / "xã" / "đặc khu": exact or fuzzy.
    for i in range(len(folded)):
        anchor = _anchor_type(folded, i)
        if anchor is None:
            continue
        said_type, after = anchor
        if after >= len(folded) or folded[after] in _NOT_AFTER_ANCHOR:
            continue
        better(_best_at(gz, folded, ascii_toks, after, said_type, city, _FUZZY_CUTOFF_ANCHORED))
    if best is not None:
        return best
    # 2. The whole answer is a name ("hoàn kiếm", "dạ sóc sơn ạ"): fuzzy allowed.
    content = [k for k, f in enumerate(folded) if f not in _FILLERS]
    if content and content[-1] - content[0] + 1 == len(content) and len(content) <= gz.max_len:
        end = content[-1] + 1
        cutoff = _FUZZY_CUTOFF_ANSWER if answer else None
        better(_best_at(gz, folded, ascii_toks, content[0], None, city, cutoff, end))
        if best is not None and best.end == end:
            return best
        best = None
    # 3. Inside a longer utterance without a unit word: exact names of 2+ syllables after "ở", "tại"...
    for i in range(1, len(folded)):
        if folded[i - 1] in _LOCATIVES:
            m = _best_at(gz, folded, ascii_toks, i, None, city, None)
            if m is not None and m.score < 100 and folded[i] in _STREET_WORDS:
                continue  # "ở đường hòa bình" is a street, not "Xã Dương Hòa" without its tones
            if m is not None and (m.end - m.start >= 2 or (m.score == 100 and m.end == len(folded))):
                better(m)  # one-syllable names ("Láng") only exactly and closing the utterance
    return best
