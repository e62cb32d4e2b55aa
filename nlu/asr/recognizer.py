"""Streaming recognition: one shared ``vosk.Model`` per process, one recogniser per call.

Frames are 16-bit signed-linear, 8 kHz, 20 ms (320 bytes) as they arrive from AudioSocket. The
energy endpointer decides when an utterance starts and ends; Vosk only sees audio from shortly before
the start (a pre-roll, so the first syllable is not cut) until the end, so CPU goes to listening, not
to silence. Vosk calls are CPU-bound: a live call runs :meth:`StreamingRecognizer.feed` in a worker
thread.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from nlu.asr.grammars import grammar_json
from nlu.asr.vad import Boundary, Endpointer

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
PRE_ROLL_FRAMES = 10  # 200 ms kept before the detected speech start


class AsrUnavailable(RuntimeError):
    """No usable speech model: the call must continue without ASR (DTMF, operator)."""


@dataclass(frozen=True)
class SpeechStarted:
    pass


@dataclass(frozen=True)
class Partial:
    text: str


@dataclass(frozen=True)
class Final:
    text: str
    confidence: float
    reason: Boundary
    grammar: str


@dataclass(frozen=True)
class NoInput:
    pass


AsrEvent = SpeechStarted | Partial | Final | NoInput


@lru_cache(maxsize=2)
def load_model(path: str) -> Any:
    """Load (once per process) the Vosk model in directory ``path``."""
    model_dir = Path(path)
    if not (model_dir / "am").is_dir() and not (model_dir / "conf").is_dir():
        raise AsrUnavailable(
            f"không có mô hình nhận dạng giọng nói tại {path} / no Vosk model at {path}; "
            "run `hotline models fetch vi-small`"
        )
    import vosk  # imported here: loading libvosk is not free and most commands never need it

    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(str(model_dir))
    except Exception as exc:  # vosk raises a bare Exception on a broken model
        raise AsrUnavailable(f"mô hình hỏng / broken Vosk model at {path}: {exc}") from exc


@lru_cache(maxsize=64)
def _in_vocabulary(model: Any, spec: str) -> str | None:
    """Keep the grammar words the model knows (Vosk warns on, and ignores, the others)."""
    words = json.loads(spec)
    known = [w for w in words if model.vosk_model_find_word(w) >= 0]
    missing = [w for w in words if w not in known]
    if missing:
        log.info("grammar words not in the model's vocabulary, ignored: %s", " ".join(missing))
    return json.dumps(known, ensure_ascii=False) if known else None


def _confidence(result: dict[str, Any]) -> float:
    words = result.get("result") or []
    if not words:
        return 0.0 if not result.get("text") else 1.0
    return float(sum(w.get("conf", 0.0) for w in words) / len(words))


class StreamingRecognizer:
    """Recognises one call's audio, one utterance at a time."""

    def __init__(self, model: Any, endpointer: Endpointer | None = None) -> None:
        self._model = model
        self._endpointer = endpointer or Endpointer()
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_FRAMES)
        self._recognizer: Any = None
        self._grammar = "free"
        self._committed = ""
        self.listen("free")

    @property
    def grammar(self) -> str:
        return self._grammar

    @property
    def in_speech(self) -> bool:
        return self._endpointer.in_speech

    def listen(self, grammar: str = "free", extra_words: tuple[str, ...] = (), slot: str = "") -> None:
        """Start listening for the next utterance with the given per-slot grammar (``slot`` is not
        used by Vosk: the grammar carries the restriction)."""
        import vosk

        spec = grammar_json(grammar, extra_words)
        words = _in_vocabulary(self._model, spec) if spec is not None else None
        if not words:
            # free-form, or a grammar the model has no words for (better free-form than deaf)
            rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        else:
            rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE, words)
        rec.SetWords(True)
        self._recognizer = rec
        self._grammar = grammar
        self._start_utterance()

    def _start_utterance(self) -> None:
        self._committed = ""
        self._endpointer.reset()
        self._pre_roll.clear()

    def feed(self, frame: bytes) -> list[AsrEvent]:
        boundary = self._endpointer.feed(frame)
        events: list[AsrEvent] = []
        if boundary is Boundary.NO_INPUT:
            return [NoInput()]
        if boundary is Boundary.SPEECH_START:
            events.append(SpeechStarted())
            for old in self._pre_roll:
                self._recognizer.AcceptWaveform(old)
            self._pre_roll.clear()
        if not self._endpointer.in_speech and boundary is Boundary.NONE:
            self._pre_roll.append(frame)
            return events
        if boundary in (Boundary.END_BY_SILENCE, Boundary.END_BY_MAX_DURATION):
            events.append(self._finish(boundary))
            return events
        if self._recognizer.AcceptWaveform(frame):
            # Vosk's own endpoint inside our utterance: keep its text and carry on listening.
            text = json.loads(self._recognizer.Result()).get("text", "")
            if text:
                self._committed = (self._committed + " " + text).strip()
        else:
            partial = json.loads(self._recognizer.PartialResult()).get("partial", "")
            if partial:
                events.append(Partial(partial))
        return events

    def finish(self) -> Final:
        """Force the end of the current utterance (e.g. the caller hung up)."""
        return self._finish(Boundary.END_BY_SILENCE)

    def _finish(self, reason: Boundary) -> Final:
        result = json.loads(self._recognizer.FinalResult())
        text = " ".join(t for t in (self._committed, result.get("text", "")) if t).strip()
        self._recognizer.Reset()
        self._start_utterance()
        return Final(text=text, confidence=_confidence(result), reason=reason, grammar=self._grammar)
