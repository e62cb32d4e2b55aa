"""TEST SEAM: a recognizer that knows what the caller said instead of recognising it.

There is no Vietnamese speech model on the test machines (see docs: Vosk's Vietnamese models cannot be
downloaded here). :class:`TranscriptSeam` has the interface of
:class:`nlu.asr.recognizer.StreamingRecognizer` and runs the REAL energy endpointer on the REAL
inbound call audio; only at each detected end of utterance, instead of decoding, it returns the next
line of the known transcript of the caller's audio (``CallerScript.transcripts``). Used only in tests,
injected through the call handler's recognizer factory; everything else in the call path is real.
With ``HOTLINE_TEST_VI_MODEL`` set to a Vietnamese Vosk model, :func:`recognizer_factory` returns the
real recognizer instead and the same tests run fully real.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from nlu.asr.recognizer import AsrEvent, Final, NoInput, SpeechStarted, StreamingRecognizer, load_model
from nlu.asr.vad import Boundary, Endpointer


class TranscriptSeam:
    def __init__(self, transcripts: list[str]) -> None:
        self._lines = list(transcripts)
        self._endpointer = Endpointer()
        self.grammar = "free"
        self.returned: list[str] = []
        self.frames = 0

    @property
    def in_speech(self) -> bool:
        return self._endpointer.in_speech

    def listen(self, grammar: str = "free", extra_words: tuple[str, ...] = (), slot: str = "") -> None:
        self.grammar = grammar
        self._endpointer.reset()

    def _next(self, reason: Boundary) -> Final:
        text = self._lines.pop(0) if self._lines else ""
        self.returned.append(text)
        return Final(text=text, confidence=1.0, reason=reason, grammar=self.grammar)

    def feed(self, frame: bytes) -> list[AsrEvent]:
        self.frames += 1
        boundary = self._endpointer.feed(frame)
        if boundary is Boundary.NO_INPUT:
            return [NoInput()]
        if boundary is Boundary.SPEECH_START:
            return [SpeechStarted()]
        if boundary in (Boundary.END_BY_SILENCE, Boundary.END_BY_MAX_DURATION):
            return [self._next(boundary)]
        return []

    def finish(self) -> Final:
        return self._next(Boundary.END_BY_SILENCE)


def recognizer_factory(transcripts: list[str]) -> tuple[Callable[[], object], list[object]]:
    """A factory for the app (one recognizer per call, each with the whole transcript) and the list
    of recognizers it made. With ``HOTLINE_TEST_VI_MODEL`` the real Vosk recognizer is used."""
    made: list[object] = []
    lock = threading.Lock()
    vi_model = os.environ.get("HOTLINE_TEST_VI_MODEL", "")

    def make() -> object:
        rec: object
        rec = StreamingRecognizer(load_model(vi_model)) if vi_model else TranscriptSeam(transcripts)
        with lock:
            made.append(rec)
        return rec

    return make, made
