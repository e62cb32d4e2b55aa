"""Duplicate candidates (HN Art. 6.2b, iHN Art. 6.2c): the same issue reported again by someone else.

A candidate has the same category, the same ward, was created within a window before the ticket
(default 7 days), is not itself rejected, and says much the same thing. Text similarity works on
normalised Vietnamese: Unicode NFC, lower case, punctuation removed, filler words dropped, then tone
marks and "đ" folded so that a report typed without diacritics still matches one with them. The
score blends rapidfuzz's token-set and token-sort ratios (word order and extra words matter little),
and is scaled down when both texts carry numbers (house numbers, alleys) that disagree: "ngõ 12" and
"ngõ 40" of the same street are different places. The operator decides; this only proposes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from rapidfuzz import fuzz

from ticketing.domain.model import Status, Ticket

DEFAULT_WINDOW = timedelta(days=7)
DEFAULT_THRESHOLD = 0.7

# Filler and framing words of spoken reports, compared after folding; none of them says *what* happened.
_FILLER_TEXT = """
    co bi o tai truoc sau nha so duong pho va la cua rat dang da nay do thi cho khong duoc mot nhung cac
    voi tren duoi gan khu vuc a oi nhe em anh chi toi minh bac chu xin phan kien nghi viec tinh trang
    hien day ay roi qua lam nua cung con
"""
_FILLER = frozenset(_FILLER_TEXT.split())
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower case without tone marks or diacritics: ``"Đường Hào Nam"`` -> ``"duong hao nam"``."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """The folded words of ``text`` that carry meaning (filler words dropped)."""
    return list(_tokens(text))


@lru_cache(maxsize=16384)
def _tokens(text: str) -> tuple[str, ...]:
    # kept: every filing compares the new report with the same recent reports of its ward
    words = _WORD.findall(fold(unicodedata.normalize("NFC", text)))
    return tuple(w for w in words if w not in _FILLER)


def similarity(a: str, b: str) -> float:
    """Similarity of two Vietnamese texts in [0, 1]."""
    return token_similarity(tokens(a), tokens(b))


def token_similarity(ta: list[str], tb: list[str]) -> float:
    """:func:`similarity` on texts already split by :func:`tokens`."""
    if not ta or not tb:
        return 0.0
    sa, sb = " ".join(ta), " ".join(tb)
    score = (fuzz.token_set_ratio(sa, sb) + fuzz.token_sort_ratio(sa, sb)) / 200.0
    numbers_a = {w for w in ta if w.isdigit()}
    numbers_b = {w for w in tb if w.isdigit()}
    if numbers_a and numbers_b:
        overlap = len(numbers_a & numbers_b) / len(numbers_a | numbers_b)
        score *= 0.5 + 0.5 * overlap
    return round(score, 4)


@dataclass(frozen=True)
class Prior:
    """What the duplicate search needs of an earlier report of the same category and ward."""

    code: str
    status: Status
    created_at: datetime
    text: str  # its content and address (see :func:`text_of`)


def text_of(content: str, address: str) -> str:
    return f"{content} {address}".strip()


def _text_of(ticket: Ticket) -> str:
    return text_of(ticket.content, ticket.place.address)


def score_priors(
    ticket: Ticket,
    priors: Iterable[Prior],
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[tuple[Prior, float]]:
    """The earlier reports of ``ticket``'s category and ward (``priors``, already selected by both)
    that may report the same issue, best first, as ``(prior, score)``: created at most ``window``
    before ``ticket``, not rejected, score >= ``threshold``. A ticket without a ward has none."""
    if not ticket.place.ward_code:
        return []
    probe = tokens(_text_of(ticket))
    found: list[tuple[Prior, float]] = []
    for other in priors:
        if other.code == ticket.code or other.status == Status.REJECTED:
            continue
        age = ticket.created_at - other.created_at
        if age < timedelta(0) or age > window:
            continue
        score = token_similarity(probe, tokens(other.text))
        if score >= threshold:
            found.append((other, score))
    found.sort(key=lambda pair: (-pair[1], pair[0].created_at))
    return found


def find_candidates(
    ticket: Ticket,
    recent: Iterable[Ticket],
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[tuple[Ticket, float]]:
    """Earlier tickets that may report the same issue, best first, as ``(ticket, score)``.

    Same category and ward (a ticket without a ward has no candidates), created at most ``window``
    before ``ticket``, not rejected (a rejected ticket cannot be an original), score >= ``threshold``.
    """
    same = [
        other
        for other in recent
        if other is not ticket
        and other.category == ticket.category
        and other.place.ward_code == ticket.place.ward_code
    ]
    priors = [Prior(o.code, o.status, o.created_at, _text_of(o)) for o in same]
    ticket_of = {id(p): o for p, o in zip(priors, same, strict=True)}
    return [(ticket_of[id(p)], score) for p, score in score_priors(ticket, priors, window, threshold)]
