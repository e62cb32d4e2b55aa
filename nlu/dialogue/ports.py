"""What the engine needs from its neighbours, as Protocols: the interpreter and the procedure finder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from nlu.knowledge.procedures import Procedure


@dataclass(frozen=True)
class Interpretation:
    """One utterance understood: intent, confidence, entities (keys name, phone, cccd, dossier_code, ward,
    time, category, urgent) and which backend produced it."""

    intent: str
    confidence: float
    entities: dict[str, str] = field(default_factory=dict)
    backend: str = ""


class Interpreter(Protocol):
    """Turns one caller utterance into an intent with entities (Rasa, or the rule-based fallback)."""

    def interpret(self, text: str, now: datetime) -> Interpretation: ...


class ProcedureFinder(Protocol):
    """Finds the administrative procedure a caller asks about, or None when nothing matches well enough."""

    def best(self, text: str) -> Procedure | None: ...
