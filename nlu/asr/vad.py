"""Voice activity and end-of-utterance detection on 16-bit signed-linear frames (pure).

Energy-based: cheap enough to run on every 20 ms frame of every call, so the recogniser only gets
audio once speech has started, and barge-in can be detected while a prompt is playing.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from enum import Enum


def frame_dbfs(frame: bytes) -> float:
    """RMS level of a little-endian 16-bit frame in dBFS (-inf dB is returned as -120)."""
    samples = array("h")
    samples.frombytes(frame[: len(frame) - len(frame) % 2])
    if not samples:
        return -120.0
    mean_square = sum(s * s for s in samples) / len(samples)
    if mean_square <= 0:
        return -120.0
    return 10.0 * math.log10(mean_square / (32768.0 * 32768.0))


class Boundary(Enum):
    NONE = "none"
    SPEECH_START = "speech_start"
    END_BY_SILENCE = "end_by_silence"
    END_BY_MAX_DURATION = "end_by_max_duration"
    NO_INPUT = "no_input"  # nothing said before the no-input timeout


@dataclass
class Endpointer:
    """Turns per-frame speech/non-speech decisions into utterance boundaries.

    ``start_frames`` consecutive loud frames start an utterance (so a click does not);
    ``silence_ms`` of quiet after speech ends it; ``max_utterance_ms`` caps it; ``no_input_ms`` of
    quiet before any speech reports no input.
    """

    threshold_dbfs: float = -40.0
    frame_ms: int = 20
    start_frames: int = 3
    silence_ms: int = 700
    max_utterance_ms: int = 15000
    no_input_ms: int = 6000
    _loud_run: int = field(default=0, init=False)
    _quiet_ms: int = field(default=0, init=False)
    _speech_ms: int = field(default=0, init=False)
    _waited_ms: int = field(default=0, init=False)
    in_speech: bool = field(default=False, init=False)

    def reset(self) -> None:
        self._loud_run = self._quiet_ms = self._speech_ms = self._waited_ms = 0
        self.in_speech = False

    def feed(self, frame: bytes) -> Boundary:
        return self.feed_level(frame_dbfs(frame))

    def feed_level(self, dbfs: float) -> Boundary:
        loud = dbfs >= self.threshold_dbfs
        if not self.in_speech:
            self._waited_ms += self.frame_ms
            self._loud_run = self._loud_run + 1 if loud else 0
            if self._loud_run >= self.start_frames:
                self.in_speech = True
                self._speech_ms = self._loud_run * self.frame_ms
                self._quiet_ms = 0
                return Boundary.SPEECH_START
            if self._waited_ms >= self.no_input_ms:
                self._waited_ms = 0
                return Boundary.NO_INPUT
            return Boundary.NONE
        self._speech_ms += self.frame_ms
        self._quiet_ms = 0 if loud else self._quiet_ms + self.frame_ms
        if self._quiet_ms >= self.silence_ms:
            self.reset()
            return Boundary.END_BY_SILENCE
        if self._speech_ms >= self.max_utterance_ms:
            self.reset()
            return Boundary.END_BY_MAX_DURATION
        return Boundary.NONE
