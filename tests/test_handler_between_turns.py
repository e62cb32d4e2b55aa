"""The caller's audio between two turns: a caller who goes on talking while the last turn is still
being recognised and answered is recognised from the start of what they say next, not from the
moment the handler listens again (Whisper decodes take seconds: the start used to be lost)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pbx.ai_operator.handler import PRE_ROLL_FRAMES, TURN_GAP_FRAMES, DialogueCallHandler

LOUD, QUIET = b"L" * 320, b"\x00" * 320


def handler(frames: list[tuple[bytes, bool]]) -> DialogueCallHandler:
    services: Any = SimpleNamespace(ports_factory=lambda: SimpleNamespace())
    h = DialogueCallHandler(services)
    h._between.extend(frames)
    return h


def test_talking_caller_is_carried_from_the_start_of_the_new_sentence() -> None:
    old_turn = [(LOUD, True)] * 20 + [(QUIET, False)] * 40
    new_sentence = [(LOUD, True)] * 30 + [(QUIET, False)] * 5 + [(LOUD, True)] * 10
    h = handler(old_turn + new_sentence)
    carried = h._still_talking()
    assert len(carried) == len(new_sentence) + PRE_ROLL_FRAMES
    assert carried[PRE_ROLL_FRAMES:] == [pcm for pcm, _ in new_sentence]
    assert not h._between  # used once


def test_a_silent_caller_carries_nothing() -> None:
    h = handler([(LOUD, True)] * 20 + [(QUIET, False)] * (TURN_GAP_FRAMES + 20))
    assert h._still_talking() == []
    assert handler([])._still_talking() == []
