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
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import jwt
from rapidfuzz import fuzz

from nlu.dialogue.ports import Interpretation
from nlu.intent_rules import content_words, fold_text, rule_intent, strong_intent
from nlu.normalize import CATEGORY_INTENTS, extract_entities, normalize_name
from nlu.normalize.text import clean, has_vietnamese_signal, strip_diacritics
from nlu.rasa_auth import bearer_headers
from ops import instruments

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
            resp = self._client.post(self.url, headers=bearer_headers(self.token), json={"text": text})
            resp.raise_for_status()
            body = resp.json()
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(body, dict) or "intent" not in body:
            raise RasaUnavailable("unexpected answer from Rasa")
        return body

    def interpret(self, text: str, now: datetime | None = None) -> Interpretation:
        return interpretation_from_rasa(self.parse_raw(clean(text)), text, _now(now), self.city)

    def probe(self) -> str | None:
        """None when the server parses a greeting with this token; else why it does not (one line)."""
        try:
            self.parse_raw("xin chào")
        except RasaUnavailable as exc:
            if "401" in str(exc) or "403" in str(exc):
                return "the Rasa server refused the token (nlu.rasa_token / <data_dir>/rasa-token)"
            return f"Rasa does not answer at {self.url.removesuffix('/model/parse')} ({exc})"
        return None


NOT_UNDERSTOOD = "inform"  # with confidence 0: below any threshold, so the dialogue repairs or transfers


def not_understood(backend: str) -> Interpretation:
    """What a turn without Vietnamese in it (a garbled ASR result) is understood as: nothing."""
    return Interpretation(intent=NOT_UNDERSTOOD, confidence=0.0, entities={}, backend=backend)


def interpretation_from_rasa(body: dict[str, Any], text: str, now: datetime, city: str) -> Interpretation:
    """Turn Rasa's parse answer into an Interpretation with normalised entity values."""
    if not has_vietnamese_signal(text):
        return not_understood("rasa")
    intent, confidence = _rasa_intent(body)
    folded = fold_text(text)
    if intent in _SHORT_TURN_INTENTS and len(folded.split()) > _SHORT_TURN_MAX:
        # "cho em hỏi sao khu nhà em cúp điện hoài vậy, tuần này cúp ba lần rồi" is no goodbye: a long
        # turn is not a closing, a greeting or a yes/no, whatever the model says; the rules decide.
        intent, confidence = rule_intent(folded, extract_entities(text, now, city))
    entities = extract_entities(text, now, city, intent=intent)
    override = strong_intent(folded, entities, intent)
    if override is not None:
        intent, confidence = override, max(confidence, 0.7)
        if intent not in CATEGORY_INTENTS:
            entities.pop("category", None)
    if intent != "inform" and _only_slot_values(folded, entities):
        intent, confidence = "inform", max(confidence, 0.6)  # a bare answer: "bên kiến an", "đồ sơn"
    if "name" not in entities:
        for ent in _list(body.get("entities")):
            if isinstance(ent, dict) and ent.get("entity") == "name" and isinstance(ent.get("value"), str):
                name = normalize_name(ent["value"])
                if name and not _is_ward_name(name, entities.get("ward")):
                    entities["name"] = name
                    break
    return Interpretation(intent=intent, confidence=confidence, entities=entities, backend="rasa")


_SHORT_TURN_INTENTS = frozenset(("goodbye", "greet", "affirm", "deny"))
_SHORT_TURN_MAX = 12  # words; the rules' own limit for a closing or a greeting


def _only_slot_values(folded: str, entities: dict[str, str]) -> bool:
    """The turn (folded, see :func:`fold_text`) is slot values and answer words only (an answer to a
    slot question), nothing else."""
    slots = {k for k in entities if k not in ("category", "urgent")}
    return bool(slots) and "urgent" not in entities and content_words(folded.split(), entities) == 0


def _is_ward_name(name: str, ward: str | None) -> bool:
    """Rasa tagged the ward's own words as a person name ("ở xuân phương" -> "Xuân Phương")."""
    if ward is None:
        return False
    return fuzz.partial_ratio(strip_diacritics(name).lower(), strip_diacritics(ward).lower()) >= _SAME_WORDS


_SAME_WORDS = 80.0


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _confidence(value: object) -> float:
    """A confidence from Rasa's answer; anything not a finite number in [0, 1] counts as none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return number if 0.0 <= number <= 1.0 else 0.0


def _rasa_intent(body: dict[str, Any]) -> tuple[str, float]:
    """The intent and its confidence; a malformed answer (wrong types anywhere) reads as no intent."""
    top = body.get("intent")
    if isinstance(top, dict) and isinstance(top.get("name"), str) and top["name"] in INTENTS:
        return str(top["name"]), _confidence(top.get("confidence"))
    # FallbackClassifier answered "nlu_fallback": keep the best real intent, with its (low) confidence.
    for item in _list(body.get("intent_ranking")):
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"] in INTENTS:
            return str(item["name"]), _confidence(item.get("confidence"))
    return "inform", 0.0


class FallbackInterpreter:
    """Keyword and pattern rules over the folded text, with entities from :mod:`nlu.normalize`."""

    def __init__(self, city: str = "hanoi") -> None:
        self.city = city

    def interpret(self, text: str, now: datetime | None = None) -> Interpretation:
        if not has_vietnamese_signal(text):
            return not_understood("fallback")
        when = _now(now)
        folded = fold_text(text)
        entities = extract_entities(text, when, self.city)
        intent, confidence = rule_intent(folded, entities)
        if intent not in CATEGORY_INTENTS:
            entities.pop("category", None)
        return Interpretation(intent=intent, confidence=confidence, entities=entities, backend="fallback")


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
        started = time.perf_counter()
        result = self._interpret(text, now)
        instruments.NLU_LATENCY.labels(result.backend).observe(time.perf_counter() - started)
        return result

    def _interpret(self, text: str, now: datetime | None) -> Interpretation:
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


class Tally:
    """An interpreter that notes which backend answered each turn (``rasa`` or ``fallback``)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.backends: list[str] = []

    def interpret(self, text: str, now: datetime) -> Interpretation:
        result: Interpretation = self.inner.interpret(text, now)
        self.backends.append(result.backend)
        return result

    def summary(self) -> str:
        """``NLU: rasa answered 2 of 3 turns`` (the rest: the fallback)."""
        return f"NLU: rasa answered {self.backends.count('rasa')} of {len(self.backends)} turns"


def describe(interpreter: object) -> str:
    """Which interpreter answers now, in one line: ``NLU: rasa at URL`` or ``NLU: fallback — reason``.

    Asks Rasa once (a greeting) when the interpreter has a Rasa client, so a silent degrade (an
    unreachable server, a refused token) is said at start."""
    rasa = interpreter.primary if isinstance(interpreter, ResilientInterpreter) else interpreter
    if isinstance(rasa, RasaInterpreter):
        problem = rasa.probe()
        if problem is None:
            return f"NLU: rasa at {rasa.url.removesuffix('/model/parse')}"
        if rasa is interpreter:
            return f"NLU: rasa (not answering) — {problem}"
        return f"NLU: fallback — {problem}; calls use the rule-based interpreter until Rasa answers"
    return "NLU: fallback — the rule-based interpreter was chosen"
