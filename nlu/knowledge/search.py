"""Finding the procedure a caller asks about by fuzzy phrase matching (rapidfuzz).

Each procedure is represented by its name and aliases; a query scores the best match of any of
those phrases against a run of words inside it, compared without diacritics so that ASR slips on tones
("khai xinh") still match. An answer is given only when the best score clears a threshold and no other
procedure comes close.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from nlu.knowledge.procedures import Procedure, load_procedures


def fold(text: str) -> str:
    """Lowercase, without diacritics or punctuation: "Đăng ký kết hôn!" -> "dang ky ket hon"."""
    t = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    t = "".join(ch for ch in t if unicodedata.category(ch) != "Mn")
    return " ".join(re.sub(r"[^\w]+", " ", t).split())


def _window_score(phrase: str, words: list[str]) -> float:
    """Best similarity of ``phrase`` to any run of about as many words of the query (one more or less,
    for ASR insertions and deletions); whole words only, so "cưới" does not match "nuôi" inside a word."""
    n = len(phrase.split())
    best = 0.0
    for size in {max(1, n - 1), n, n + 1}:
        if size > len(words):
            size = len(words)
        for start in range(len(words) - size + 1):
            score = fuzz.ratio(phrase, " ".join(words[start : start + size]))
            if score > best:
                best = score
    return best


@dataclass(frozen=True)
class Match:
    procedure: Procedure
    score: float  # 0..100
    phrase: str


class ProcedureIndex:
    """Search over a set of procedures; :meth:`best` is the engine's ``ProcedureFinder``."""

    def __init__(
        self, procedures: tuple[Procedure, ...], threshold: float = 85.0, margin: float = 4.0
    ) -> None:
        self.procedures = procedures
        self.threshold = threshold
        self.margin = margin
        self._phrases: list[tuple[str, Procedure]] = [
            (fold(phrase), p) for p in procedures for phrase in (p.name, *p.aliases)
        ]
        self._folded = [phrase for phrase, _ in self._phrases]
        self._by_id = {p.id: p for p in procedures}

    def get(self, procedure_id: str) -> Procedure:
        return self._by_id[procedure_id]

    def search(self, text: str, limit: int = 3) -> list[Match]:
        """Best-scoring procedures for ``text``, one entry per procedure, best first."""
        query = fold(text)
        best: dict[str, Match] = {}
        if not query:
            return []
        words = query.split()
        # One vectorised pass finds the phrases worth a word-aligned look.
        candidates = process.extract(
            query, self._folded, scorer=fuzz.partial_ratio, score_cutoff=self.threshold - 10, limit=None
        )
        for _, _, i in candidates:
            phrase, proc = self._phrases[i]
            score = _window_score(phrase, words)
            # Longer matched phrases are more specific: break ties in their favour.
            score += min(len(phrase), 30) / 100.0
            if proc.id not in best or score > best[proc.id].score:
                best[proc.id] = Match(proc, score, phrase)
        return sorted(best.values(), key=lambda m: m.score, reverse=True)[:limit]

    def best(self, text: str) -> Procedure | None:
        """The procedure asked about, or None when nothing matches well or two match equally well."""
        matches = self.search(text, limit=2)
        if not matches or matches[0].score < self.threshold:
            return None
        if len(matches) > 1 and matches[0].score - matches[1].score < self.margin and matches[0].score < 99:
            return None
        return matches[0].procedure


@lru_cache(maxsize=1)
def default_index() -> ProcedureIndex:
    return ProcedureIndex(load_procedures())
