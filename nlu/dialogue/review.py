"""Turns worth a supervisor's look, kept by the engine during a call (HN Art. 4.7: the AI keeps
learning): a turn not understood, an intent below the confidence threshold, a correction at the
read-back, and the turn before a handoff. The engine only records them (no I/O); whoever ends the call
stores them in the review queue (:mod:`nlu.review`)."""

from __future__ import annotations

from dataclasses import dataclass, field

REASONS = ("not_understood", "low_confidence", "correction", "handoff")


@dataclass(frozen=True)
class ReviewItem:
    reason: str  # one of REASONS
    text: str  # what the caller said (the recogniser's text)
    intent: str
    confidence: float
    entities: dict[str, str] = field(default_factory=dict)
    phase: str = ""  # the dialogue state: phase and the slot being asked
    slot: str = ""
    turn: int = 0  # index of the caller's turn in the call (0-based): finds its span in the recording
