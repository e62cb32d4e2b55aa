"""Shared helpers for dialogue tests: a scripted interpreter (unit tests of the engine layer only)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from nlu.dialogue import Action, DialogueEngine, Interpretation, Say
from nlu.knowledge import default_index

NOW = datetime(2026, 11, 22, 21, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


class ScriptedInterpreter:
    """Answers each known utterance with a fixed interpretation; anything else is "inform" at 0.2."""

    def __init__(self, script: dict[str, Interpretation]) -> None:
        self.script = script
        self.seen: list[tuple[str, datetime]] = []

    def interpret(self, text: str, now: datetime) -> Interpretation:
        self.seen.append((text, now))
        return self.script.get(text, Interpretation("inform", 0.2, {}, "scripted"))


def i(intent: str, confidence: float = 0.95, **entities: str) -> Interpretation:
    return Interpretation(intent, confidence, dict(entities), "scripted")


def engine(script: dict[str, Interpretation], caller_id: str = "0912345678") -> DialogueEngine:
    return DialogueEngine(
        ScriptedInterpreter(script), default_index(), caller_id=caller_id, clock=lambda: NOW
    )


def says(actions: list[Action]) -> str:
    return " ".join(a.text for a in actions if isinstance(a, Say))
