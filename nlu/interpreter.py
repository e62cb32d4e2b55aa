"""Interpreters: one caller utterance in, an :class:`Interpretation` (intent, confidence, normalised
entities, backend) out.

* :class:`RasaInterpreter` asks the Rasa server (``POST /model/parse`` with the auth token, httpx with
  a timeout) for the intent and the person-name span; values are normalised by :mod:`nlu.normalize`.
* :class:`FallbackInterpreter` is rule based (keywords + :mod:`nlu.normalize`), with no server.
* :class:`ResilientInterpreter` uses Rasa and falls back when it is unreachable, slow or broken. Each
  fallback is logged (a warning when Rasa goes down, info for every degraded parse) and visible in
  ``Interpretation.backend``; Rasa is retried after ``retry_after_s``.

The :class:`Interpretation` type is the one the dialogue engine consumes (``nlu.dialogue.ports``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from rapidfuzz import fuzz

from nlu.dialogue.ports import Interpretation
from nlu.normalize import extract_entities, normalize_name
from nlu.normalize.category import resolve_code
from nlu.normalize.text import clean, has_vietnamese_signal, strip_diacritics

log = logging.getLogger(__name__)

INTENTS = (
    "report",
    "dossier_lookup",
    "procedure_question",
    "request_operator",
    "complaint_denunciation",
    "affirm",
    "deny",
    "inform",
    "greet",
    "goodbye",
)
SLOT_KEYS = ("name", "phone", "cccd", "dossier_code", "ward", "time", "category", "urgent")


class RasaUnavailable(RuntimeError):
    """The Rasa server did not answer in time or answered with an error."""


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now().replace(second=0, microsecond=0)


class RasaInterpreter:
    """Client of a running Rasa server; raises :class:`RasaUnavailable` on any transport or HTTP error."""

    def __init__(self, url: str, token: str, timeout_s: float = 0.5, city: str = "hanoi") -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.token = token
        self.city = city
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s), trust_env=False)

    def close(self) -> None:
        self._client.close()

    def parse_raw(self, text: str) -> dict[str, Any]:
        try:
            resp = self._client.post(self.url, params={"token": self.token}, json={"text": text})
            resp.raise_for_status()
            body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(body, dict) or "intent" not in body:
            raise RasaUnavailable("unexpected answer from Rasa")
        return body

    def interpret(self, text: str, now: datetime | None = None) -> Interpretation:
        return interpretation_from_rasa(self.parse_raw(clean(text)), text, _now(now), self.city)


NOT_UNDERSTOOD = "inform"  # with confidence 0: below any threshold, so the dialogue repairs or transfers


def not_understood(backend: str) -> Interpretation:
    """What a turn without Vietnamese in it (a garbled ASR result) is understood as: nothing."""
    return Interpretation(intent=NOT_UNDERSTOOD, confidence=0.0, entities={}, backend=backend)


def _complaint_category(intent: str, entities: dict[str, str]) -> None:
    """Complaints and denunciations go to the citizen-reception procedure whatever they are about."""
    code = resolve_code("KNTC")
    if intent == "complaint_denunciation" and code is not None:
        entities["category"] = code


def interpretation_from_rasa(body: dict[str, Any], text: str, now: datetime, city: str) -> Interpretation:
    """Turn Rasa's parse answer into an Interpretation with normalised entity values."""
    if not has_vietnamese_signal(text):
        return not_understood("rasa")
    intent, confidence = _rasa_intent(body)
    entities = extract_entities(text, now, city, intent=intent)
    if intent != "inform" and _only_slot_values(text, entities):
        intent, confidence = "inform", max(confidence, 0.6)  # a bare answer: "bên kiến an", "đồ sơn"
    if "name" not in entities:
        for ent in body.get("entities") or []:
            if ent.get("entity") == "name" and isinstance(ent.get("value"), str):
                name = normalize_name(ent["value"])
                if name and not _is_ward_name(name, entities.get("ward")):
                    entities["name"] = name
                    break
    _complaint_category(intent, entities)
    return Interpretation(intent=intent, confidence=confidence, entities=entities, backend="rasa")


def _only_slot_values(text: str, entities: dict[str, str]) -> bool:
    """The turn is slot values and answer words only (an answer to a slot question), nothing else."""
    slots = {k for k in entities if k not in ("category", "urgent")}
    return bool(slots) and "urgent" not in entities and _content_words(_fold(text).split(), entities) == 0


def _is_ward_name(name: str, ward: str | None) -> bool:
    """Rasa tagged the ward's own words as a person name ("ở xuân phương" -> "Xuân Phương")."""
    if ward is None:
        return False
    return fuzz.partial_ratio(strip_diacritics(name).lower(), strip_diacritics(ward).lower()) >= _SAME_WORDS


_SAME_WORDS = 80.0


def _rasa_intent(body: dict[str, Any]) -> tuple[str, float]:
    top = body.get("intent") or {}
    if top.get("name") in INTENTS:
        return str(top["name"]), float(top.get("confidence") or 0.0)
    # FallbackClassifier answered "nlu_fallback": keep the best real intent, with its (low) confidence.
    for item in body.get("intent_ranking") or []:
        if item.get("name") in INTENTS:
            return str(item["name"]), float(item.get("confidence") or 0.0)
    return "inform", 0.0


def _fold(text: str) -> str:
    return " " + strip_diacritics(clean(text)).replace("đ", "d") + " "


_NUMBER_WORDS = frozenset(
    ("khong", "mot", "hai", "ba", "bon", "tu", "nam", "sau", "bay", "tam", "chin", "muoi", "moi", "lam",
     "nham", "tram", "linh", "le", "nghin", "ngan", "trieu", "ty", "chuc", "cong", "hat", "gach", "cham")
)  # fmt: skip


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Patterns run on lowercase text without diacritics, padded with spaces (" word ").
_OPERATOR = _rx(
    r" (gap|noi chuyen voi|noi chuyen|chuyen may|chuyen cho|chuyen sang|noi may|cho toi gap|xin gap|ket noi)"
    r" .*(nguoi|nhan vien|tong dai vien|dien thoai vien|tu van vien|can bo|dieu phoi vien|chi|anh|may|ai)",
    r" (tong dai vien|dien thoai vien|tu van vien|dieu phoi vien|nguoi that) ",
    r" khong muon noi( chuyen)? voi (may|tong dai)",
    r" noi may ",
    r" chuyen may ",
    r" (nhan vien|nguoi|ai) (nao )?(nghe may|truc) ",
    r" gap (ai do|truc tiep|nguoi) ",
)
_COMPLAINT = _rx(r" khieu nai ", r" to cao ", r" to giac ", r" khieu kien ", r" don thu ")
_DOSSIER = _rx(
    r" (tra cuu|tra|kiem tra|xem) .*ho so",
    r" ho so .*(den dau|toi dau|xong chua|co ket qua|ket qua chua|biet ket qua|tinh trang|tien do|khau nao"
    r"|buoc nao|giai quyet chua|xu ly toi|xu ly den|duyet chua|ra sao|the nao roi|bao gio|sao roi"
    r"|nhan duoc chua|lam xong)",
    r" (ma so ho so|tinh trang ho so|tien do ho so) ",
)
# Asking about a dossier whose code was said (without "hồ sơ": "em có cái mã ... muốn xem tình hình").
_DOSSIER_ASK = _rx(
    r" (tra|tra cuu|kiem tra|xem|hoi) ",
    r" (den dau|toi dau|buoc nao|khau nao|tinh hinh|tinh trang|tien do) ",
    r" (chua|sao roi|ra sao) $",
)
_ASKED_ABOUT_DOSSIER = _rx(r" hoi .*ho so")
_PROCEDURE = _rx(
    r" thu tuc ",
    r" (can|gom|mang) (nhung |nhung loai |cac )?(giay to|ho so|gi)",
    r" nop (o|tai) dau ",
    r" le phi ",
    r" (het|mat|ton) bao (nhieu|lau)",
    r" bao lau ",
    r" bao nhieu tien ",
    r" (huong dan|tu van) ",
    r" phai lam (sao|gi|the nao)",
    r" lam (the nao|sao) de ",
    r" (muon|can) (lam|dang ky|xin|doi|cap) .* thi ",
    r" (giay to|ho so|thu tuc|giay) gi ",
    r" (nop|lam|xin|dang ky|doi|cap)( \w+){0,5} (o|tai) dau ",
    r" (lam|nop|dang ky|xin)( \w+){0,3} (qua mang|online|truc tuyen) duoc khong ",
)
# A question form at the end of the utterance ("... thì làm sao", "... cần giấy gì ạ").
_QUESTION_END = _rx(
    r" (gi|dau|nao|sao|the nao|ra sao|bao nhieu|bao lau|duoc khong|khong)"
    r"( (a|vay|ha|nhi|chi|anh|em|the|day))* $"
)
_PROCEDURE_NOUNS = _rx(
    r" (khai sinh|khai tu|thuong tru|tam tru|ho khau|ket hon|chung thuc|cong chung|ly lich tu phap"
    r"|giay phep xay dung|ho kinh doanh|giay phep lai xe|bang lai|can cuoc|dang ky xe|ho chieu|so do"
    r"|tinh trang hon nhan|sang ten) "
)
_REPORT_WORDS = _rx(r" phan anh ", r" kien nghi ", r" (bao|trinh bao|bao cao) ", r" de nghi .* xu ly")
_GREET_CORE = frozenset(("alo", "chao", "hello", "lo"))
_GREET_WORDS = _GREET_CORE | frozenset(
    ("da", "a", "e", "xin", "ban", "em", "chi", "anh", "bac", "tong", "dai", "vien", "co", "ai", "khong",
     "nghe", "ro", "day", "do", "oi", "buoi", "sang", "chieu", "mot", "hai", "ha", "thua", "phai", "o", "u")
)  # fmt: skip
_GOODBYE = _rx(
    r" tam biet ",
    r" (cam on|cam ơn)( .*)? $",
    r" bye ",
    r" cup may ",
    r"^ (chao nhe|thoi chao nhe) $",
    r" (thoi|vay|the|duoc roi|xong roi|het roi)( \w+){0,3} chao( (nhe|nha|em|chi|anh|ban|a))* $",
)
_AFFIRM_CORE = frozenset(
    ("dung", "vang", "u", "ua", "phai", "chinh", "ok", "oke", "okay", "duoc", "co", "chuan", "dong", "xac",
     "da", "dza")
)  # fmt: skip
_AFFIRM_WORDS = _AFFIRM_CORE | frozenset(
    ("roi", "a", "vay", "the", "nhu", "xac", "nhan", "y", "day", "do", "nhe", "nha", "luon", "em", "chi",
     "anh", "ban", "tao", "gui", "di", "ha", "o", "um", "uh", "chinh")
)  # fmt: skip
_DENY = _rx(
    r"^ (da |thoi |o |u )?(khong|ko|hong|sai|nham|chua|dau co|khoi)( .*)? $",
    r" (nghe nham|sai roi|khong phai|khong dung|chua dung|nham roi|sai thong tin) ",
)
# Words that carry no report content; what is left after them and the slot values tells a report
# ("cơn lốc làm tốc mái mấy nhà") from an answer ("tên em là ... em ở phường ...").
_ANSWER_WORDS = frozenset(
    ("da", "vang", "a", "o", "u", "thi", "la", "toi", "em", "minh", "chau", "anh", "chi", "ten", "ho",
     "cua", "so", "dien", "thoai", "may", "nha", "tai", "thuoc", "phuong", "xa", "dac", "khu", "ben", "dia",
     "ban", "luc", "khoang", "tam", "vao", "tu", "ngay", "thang", "nam", "gio", "phut", "tieng", "sang",
     "trua", "chieu", "dem", "khuya", "hom", "qua", "nay", "mai", "kia", "thu", "chu", "nhat", "tuan",
     "truoc", "sau", "cach", "day", "nua", "ruoi", "kem", "mung", "ma", "can", "cuoc", "cong", "dan", "dinh",
     "danh", "cccd", "sdt", "va", "con", "cho", "ghi", "lai", "hien", "song", "ngo", "pho", "duong", "to",
     "nhe", "voi", "do", "ay")
)  # fmt: skip
_REPORT_CONTENT_MIN = 4


class FallbackInterpreter:
    """Keyword and pattern rules over the folded text, with entities from :mod:`nlu.normalize`."""

    def __init__(self, city: str = "hanoi") -> None:
        self.city = city

    def interpret(self, text: str, now: datetime | None = None) -> Interpretation:
        if not has_vietnamese_signal(text):
            return not_understood("fallback")
        when = _now(now)
        folded = _fold(text)
        entities = extract_entities(text, when, self.city)
        intent, confidence = self._intent(folded, entities)
        if intent not in ("report", "inform", "complaint_denunciation"):
            entities.pop("category", None)
        _complaint_category(intent, entities)
        return Interpretation(intent=intent, confidence=confidence, entities=entities, backend="fallback")

    def _intent(self, folded: str, entities: dict[str, str]) -> tuple[str, float]:
        toks = folded.split()
        words = len(toks)
        slot_values = {k for k in entities if k not in ("category", "urgent")}
        if entities.get("urgent") == "true":
            return "report", 0.8
        if _COMPLAINT.search(folded):
            return "complaint_denunciation", 0.8
        if _OPERATOR.search(folded):
            return "request_operator", 0.8
        if "dossier_code" in entities:
            if _DOSSIER.search(folded) or _DOSSIER_ASK.search(folded):
                return "dossier_lookup", 0.75
            return "inform", 0.7  # the code alone answers "what is the dossier code?"
        if _DOSSIER.search(folded):
            return "dossier_lookup", 0.75
        asked = _PROCEDURE.search(folded)
        question = _PROCEDURE_NOUNS.search(folded) or _QUESTION_END.search(folded)
        if asked and ("category" not in entities or question):
            return "procedure_question", 0.7
        if _ASKED_ABOUT_DOSSIER.search(folded):
            return "dossier_lookup", 0.6
        if words <= 8 and _GOODBYE.search(folded):
            return "goodbye", 0.75
        if words <= 8 and set(toks) <= _GREET_WORDS and set(toks) & _GREET_CORE:
            return "greet", 0.8
        if words <= 6 and set(toks) <= _AFFIRM_WORDS and set(toks) & _AFFIRM_CORE:
            return "affirm", 0.75
        if words <= 8 and _DENY.search(folded) and not slot_values:
            return "deny", 0.7
        if _REPORT_WORDS.search(folded) or ("category" in entities and words > 3):
            return "report", 0.6
        if slot_values:
            if _content_words(toks, entities) >= _REPORT_CONTENT_MIN:
                return "report", 0.5
            return "inform", 0.6
        if _PROCEDURE_NOUNS.search(folded):
            return "procedure_question", 0.5
        if words >= 5:
            return "report", 0.4
        return "inform", 0.3


def _content_words(toks: list[str], entities: dict[str, str]) -> int:
    """Words left once answer words, numbers and the slot values' own words are set aside."""
    value_words = {w for key in ("name", "ward") for w in _fold(entities.get(key, "")).split()}
    return sum(
        1
        for t in toks
        if t not in _ANSWER_WORDS and t not in value_words and t not in _NUMBER_WORDS and not t.isdigit()
    )


class ResilientInterpreter:
    """Rasa first; the fallback when Rasa fails, then Rasa again after ``retry_after_s``."""

    def __init__(
        self,
        primary: RasaInterpreter,
        fallback: FallbackInterpreter,
        retry_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_after_s = retry_after_s
        self.clock = clock
        self._down_since: float | None = None
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def interpret(self, text: str, now: datetime | None = None) -> Interpretation:
        when = _now(now)
        with self._lock:
            skip = self._down_since is not None and self.clock() - self._down_since < self.retry_after_s
        if not skip:
            try:
                result = self.primary.interpret(text, when)
            except RasaUnavailable as exc:
                with self._lock:
                    if self._down_since is None:
                        log.warning("Rasa unavailable (%s); using the rule-based fallback interpreter", exc)
                    self._down_since = self.clock()
            else:
                with self._lock:
                    if self._down_since is not None:
                        log.warning("Rasa is back; leaving the fallback interpreter")
                    self._down_since = None
                return result
        log.info("degraded NLU: fallback interpreter used for this utterance")
        return self.fallback.interpret(text, when)

    def close(self) -> None:
        self.primary.close()
