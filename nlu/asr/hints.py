"""What the caller is likely to say, as Whisper ``hotwords``: the city's ward names, the feedback
categories and the words of the slot being asked.

Whisper has no grammar; a short list of expected words in its prompt is what steers it towards
"Hoàn Kiếm" rather than "hoàn kiểm". The prompt is at most about 220 tokens, so :func:`hotwords`
fills a token budget in order of relevance for the slot (see ``docs/decisions/141``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import reference

BUDGET_TOKENS = 200

INTENT_WORDS = (
    "phản ánh", "kiến nghị", "tra cứu hồ sơ", "tình trạng xử lý", "mã số", "tổng đài viên",
    "thủ tục", "đăng ký", "ngõ", "phố", "đường",
)  # fmt: skip
YES_NO_WORDS = ("vâng", "dạ", "đúng rồi", "có", "không", "sai rồi", "chưa")
DIGIT_WORDS = ("số điện thoại", "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


def _wards(city: str) -> list[str]:
    return [u.short_name for u in reference.units(city)]


def _categories() -> list[str]:
    cats = reference.categories().values()
    return [c.name.split(" / ")[0].split(" – ")[0] for c in cats if c.code != "KHAC"]


def candidates(city: str, slot: str, grammar: str) -> list[str]:
    """Expected phrases for the slot, most useful first."""
    if grammar == "digits":
        return list(DIGIT_WORDS)
    if grammar == "yesno":
        return list(YES_NO_WORDS)
    if slot == "ward":
        return ["phường", "xã", *_wards(city)]
    if slot in ("intent", "content", "more"):
        return [*INTENT_WORDS, *_categories(), *_wards(city)]
    return []


@lru_cache(maxsize=256)
def _fit(phrases: tuple[str, ...], count: Callable[[str], int], budget: int) -> str:
    out: list[str] = []
    used = 0
    for phrase in phrases:
        cost = count(", " + phrase)
        if used + cost > budget:
            continue
        out.append(phrase)
        used += cost
    return ", ".join(out)


def hotwords(
    city: str, slot: str, grammar: str, count: Callable[[str], int], budget: int = BUDGET_TOKENS
) -> str:
    """The hotwords string for ``slot``; ``count`` gives a phrase's length in model tokens."""
    return _fit(tuple(dict.fromkeys(candidates(city, slot, grammar))), count, budget)
