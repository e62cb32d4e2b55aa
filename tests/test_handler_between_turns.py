"""The caller's audio between two turns: a caller who goes on talking while the last turn is still
being recognised and answered is recognised from the start of what they say next, not from the
moment the handler listens again (Whisper decodes take seconds: the start used to be lost)."""

from __future__ import annotations

from pbx.ai_operator.voice import PRE_ROLL_FRAMES, TURN_GAP_FRAMES, VoiceGate

LOUD, QUIET = b"L" * 320, b"\x00" * 320


def handler(frames: list[tuple[bytes, bool]]) -> VoiceGate:
    """The live handler's voice gate (pbx.ai_operator.voice) with these frames held between turns."""
    h = VoiceGate()
    h._between.extend(frames)
    return h


def test_talking_caller_is_carried_from_the_start_of_the_new_sentence() -> None:
    old_turn = [(LOUD, True)] * 20 + [(QUIET, False)] * 40
    new_sentence = [(LOUD, True)] * 30 + [(QUIET, False)] * 5 + [(LOUD, True)] * 10
    h = handler(old_turn + new_sentence)
    carried = h.still_talking()
    assert len(carried) == len(new_sentence) + PRE_ROLL_FRAMES
    assert carried[PRE_ROLL_FRAMES:] == [pcm for pcm, _ in new_sentence]
    assert not h._between  # used once


def test_a_silent_caller_carries_nothing() -> None:
    h = handler([(LOUD, True)] * 20 + [(QUIET, False)] * (TURN_GAP_FRAMES + 20))
    assert h.still_talking() == []
    assert handler([]).still_talking() == []


def test_frames_heard_between_turns_are_held_with_their_loudness() -> None:
    import array

    gate = VoiceGate()
    loud = array.array("h", [12000, -12000] * 80).tobytes()
    for _ in range(20):
        gate.hear(loud)
        gate.hold(loud)
    assert gate.still_talking()[-1] == loud  # still talking: carried into the next turn
    gate.hold(loud)
    gate.end_turn()
    assert gate.still_talking() == []  # a turn that ended drops what was held before it
