"""Per-slot vocabularies for Vosk grammar mode.

Restricting the vocabulary when the dialogue expects digits or a yes/no answer is both far cheaper
(measured real-time factor 0.011 against 0.278 free-form) and far more accurate than free-form
recognition with the Vietnamese model's ~15.7 % word error rate.
"""

from __future__ import annotations

import json

UNKNOWN = "[unk]"

DIGIT_WORDS = (
    "không", "một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm", "nhăm", "sáu", "bảy", "bẩy", "tám",
    "chín", "mười", "mươi", "linh", "lẻ", "trăm", "nghìn", "ngàn", "hát", "gạch", "thăng", "sao",
)  # fmt: skip

YES_NO_WORDS = (
    "có", "vâng", "dạ", "đúng", "rồi", "phải", "ừ", "ok", "được", "chính", "xác",
    "không", "sai", "chưa", "nhầm", "lại", "đâu",
)  # fmt: skip

GRAMMARS: dict[str, tuple[str, ...]] = {
    "digits": DIGIT_WORDS,
    "yesno": YES_NO_WORDS,
}


def grammar_json(name: str, extra_words: tuple[str, ...] = ()) -> str | None:
    """The JSON word list Vosk expects for grammar ``name``; ``None`` for free-form ("free")."""
    if name == "free":
        return None
    try:
        words = GRAMMARS[name]
    except KeyError:
        raise ValueError(f"unknown grammar {name!r}; expected free, {', '.join(GRAMMARS)}") from None
    # ensure_ascii=False: Vosk compares the raw UTF-8 words; escaped \\uXXXX words never match.
    return json.dumps([*words, *extra_words, UNKNOWN], ensure_ascii=False)
