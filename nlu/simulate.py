"""Run speech recognition and the dialogue engine over a recorded caller: the same path as a live call
(20 ms frames -> endpointing -> Vosk with the grammar the engine asks for -> interpreter -> engine),
without a phone line. Used by ``hotline call simulate`` and by tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nlu.asr.recognizer import Final, NoInput, StreamingRecognizer
from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.runner import Runner


@dataclass(frozen=True)
class Turn:
    speaker: str  # "bot" | "caller"
    text: str
    at_s: float  # seconds into the recording
    confidence: float | None = None


@dataclass
class Simulation:
    turns: list[Turn] = field(default_factory=list)
    actions: list[act.Action] = field(default_factory=list)


def simulate(
    runner: Runner,
    recognizer: StreamingRecognizer,
    frames: list[bytes],
    on_actions: Callable[[list[act.Action]], Any] | None = None,
) -> Simulation:
    """Feed ``frames`` (20 ms each) through ASR into the engine; the end of audio is a hang-up."""
    sim = Simulation()

    def apply(actions: list[act.Action], at_s: float) -> None:
        sim.actions.extend(actions)
        for a in actions:
            if isinstance(a, act.Say):
                sim.turns.append(Turn("bot", a.text, at_s))
            elif isinstance(a, act.Listen):
                recognizer.listen(a.grammar)
        if on_actions:
            on_actions(actions)

    apply(runner.start(), 0.0)
    for i, frame in enumerate(frames):
        if runner.finished:
            break
        at_s = (i + 1) * 0.02
        for event in recognizer.feed(frame):
            if isinstance(event, Final):
                if not event.text:
                    apply(runner.send(ev.Silence()), at_s)
                    continue
                sim.turns.append(Turn("caller", event.text, at_s, event.confidence))
                apply(runner.send(ev.Heard(event.text, event.confidence)), at_s)
            elif isinstance(event, NoInput):
                apply(runner.send(ev.Silence()), at_s)
    if not runner.finished:
        end_s = len(frames) * 0.02
        if recognizer.in_speech:
            last = recognizer.finish()
            if last.text:
                sim.turns.append(Turn("caller", last.text, end_s, last.confidence))
                apply(runner.send(ev.Heard(last.text, last.confidence)), end_s)
        if not runner.finished:
            apply(runner.send(ev.Hangup()), end_s)
    return sim
