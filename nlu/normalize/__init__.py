"""Vietnamese normalisers for ASR output: numbers, phone, CCCD, dossier codes, names, times, places,
category and urgency, plus ``extract_entities`` which returns the NLU contract's slot values.

All functions are pure (no I/O beyond reading the shipped data files once) and never raise on odd input.
Slot keys and value forms (the NLU contract): ``name`` "Nguyễn Văn An", ``phone`` "0912345678",
``cccd`` 12 digits, ``dossier_code`` "H26-260930-0012" / "2609300012" / full code, ``ward`` full
official name "Phường Hoàn Kiếm", ``time`` "2026-11-22T21:00" or "2026-11-20", ``category`` a code of
``reference.categories()``, ``urgent`` "true" (omitted when not urgent).
"""

from __future__ import annotations

from datetime import datetime

from nlu.normalize.category import classify_category, classify_category_tokens
from nlu.normalize.cccd import decode_cccd, find_cccd_in_tokens, normalize_cccd, province_codes
from nlu.normalize.dossier import normalize_dossier_code
from nlu.normalize.names import (
    bare_name_in_tokens,
    find_name,
    find_name_in_tokens,
    leading_name_in_tokens,
    normalize_name,
)
from nlu.normalize.numbers import DigitRun, digit_runs_in_tokens, find_digit_runs, parse_digits, parse_number
from nlu.normalize.phone import find_phone_in_tokens, normalize_phone
from nlu.normalize.places import WardMatch, find_ward, find_ward_in_tokens
from nlu.normalize.text import fold, tokens
from nlu.normalize.times import normalize_time, parse_time
from nlu.normalize.urgency import detect_urgency, detect_urgency_tokens

__all__ = [
    "CATEGORY_INTENTS",
    "DigitRun",
    "WardMatch",
    "classify_category",
    "decode_cccd",
    "detect_urgency",
    "extract_entities",
    "find_digit_runs",
    "find_name",
    "find_ward",
    "normalize_cccd",
    "normalize_dossier_code",
    "normalize_name",
    "normalize_phone",
    "normalize_time",
    "parse_digits",
    "parse_number",
    "parse_time",
]

_ID_WORDS = {fold(w) for w in ("căn", "cước", "cccd", "định", "danh", "chứng", "minh")}


def _names_an_id(folded: list[str]) -> bool:
    return sum(t in _ID_WORDS for t in folded) >= 2 or "cccd" in folded


def _id_shaped_run(folded: list[str]) -> str | None:
    """A 12-digit run with a known province code (birth-year digits not checked), when the caller
    says it is their ID number: the dialogue reads it back for confirmation anyway."""
    for run in digit_runs_in_tokens(folded):
        if len(run.digits) == 12 and run.digits[:3] in province_codes():
            return run.digits
    return None


# Intents whose utterances describe an incident; others get no category. A complaint or denunciation
# (khiếu nại, tố cáo) is not a report: its intent says what it is, and it goes to citizen reception.
CATEGORY_INTENTS = frozenset({"report", "inform"})


def extract_entities(
    text: str, now: datetime, city: str = "hanoi", intent: str | None = None
) -> dict[str, str]:
    """Slot values the utterance really carries, keyed by the contract's slot names.

    ``intent`` (optional) limits ``category`` to utterances that report something.
    """
    raw = tokens(text)
    folded = [fold(t) for t in raw]
    out: dict[str, str] = {}
    name = find_name_in_tokens(raw, folded) or leading_name_in_tokens(raw, folded)
    if name is not None:
        out["name"] = name
    phone = find_phone_in_tokens(folded)
    if phone is not None:
        out["phone"] = phone
    cccd = find_cccd_in_tokens(folded, now.year)
    if cccd is None and _names_an_id(folded):
        cccd = _id_shaped_run(folded)
    if cccd is not None:
        out["cccd"] = cccd
    dossier = normalize_dossier_code(text, today=now.date())
    if dossier is not None:
        out["dossier_code"] = dossier
    when = normalize_time(text, now)
    if when is not None:
        out["time"] = when
    ward = find_ward_in_tokens(raw, folded, city, answer=False)
    if ward is not None:
        out["ward"] = ward.name
    elif name is None:
        bare = bare_name_in_tokens(raw, folded)
        if bare is not None:
            out["name"] = bare
    masked = list(folded)
    if ward is not None:
        masked[ward.start : ward.end] = [""] * (ward.end - ward.start)
    if intent is None or intent in CATEGORY_INTENTS:
        category = classify_category_tokens(masked)
        if category is not None:
            out["category"] = category
    urgent, _reason = detect_urgency_tokens(masked)
    if urgent:
        out["urgent"] = "true"
    return out
