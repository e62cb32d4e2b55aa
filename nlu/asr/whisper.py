"""Speech to text with Whisper (faster-whisper, CTranslate2 on CPU), one utterance at a time.

Whisper is not a streaming recogniser: :class:`WhisperRecognizer` has the interface of
:class:`nlu.asr.recognizer.StreamingRecognizer` but only collects the utterance's audio (20 ms frames
of 8 kHz telephone audio) while the endpointer says the caller speaks, and decodes it once, at the end
of the utterance: upsampled to 16 kHz, ``language="vi"``, temperature 0 (no fallback re-decodes),
greedy (``beam_size=1``) unless configured, no timestamps, and ``hotwords`` built from the city's ward
names, the categories and the slot being asked (:mod:`nlu.asr.hints`). Onset and end come from the
Silero VAD (:mod:`nlu.asr.silero`) fed into the same endpointer state machine as the energy detector,
which stays the fallback when onnxruntime or the Silero model cannot be loaded.

One :class:`WhisperEngine` (model + decode lock) is shared by every call of a process. CTranslate2
runs one decode at a time per worker, so concurrent utterances queue: the engine records each
decode's queueing delay and decoding time (``bench/call.py`` reports them).
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nlu.asr import silero
from nlu.asr.hints import hotwords
from nlu.asr.recognizer import AsrEvent, AsrUnavailable, Final, NoInput, SpeechStarted
from nlu.asr.vad import Boundary, Endpointer, frame_dbfs

log = logging.getLogger(__name__)

PRE_ROLL_FRAMES = 10  # 200 ms kept before the detected onset
MIN_SPEECH_S = 0.25  # shorter "utterances" (a click, a cough) are not decoded
NO_SPEECH_PROB = 0.6
# Phrases Whisper produces from noise or music (learnt from subtitled videos), never from a caller.
REPEATS = re.compile(r"(\b[^\W\d_]+(?:\s+[^\W\d_]+){0,7})(?:[\s,.]+\1\b){2,}", re.IGNORECASE)
TOKENS_PER_S = 12  # Vietnamese speech: about 4 syllables/s, up to 3 tokens a syllable
HALLUCINATIONS = ("subscribe", "ghiền mì gõ", "cảm ơn các bạn đã theo dõi", "hẹn gặp lại các bạn")


@dataclass
class DecodeStats:
    queue_s: list[float] = field(default_factory=list)  # waiting for the model
    decode_s: list[float] = field(default_factory=list)
    audio_s: list[float] = field(default_factory=list)


class WhisperEngine:
    """The shared model: decode 16 kHz float32 audio to text, one decode at a time per worker."""

    def __init__(self, model: Any, city: str = "hanoi", beam_size: int = 1, workers: int = 1) -> None:
        self.model = model
        self.city = city
        self.beam_size = beam_size
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self.stats = DecodeStats()
        self._stats_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.model.hf_tokenizer.encode(text, add_special_tokens=False).ids)

    def hotwords(self, slot: str, grammar: str) -> str:
        return hotwords(self.city, slot, grammar, self.count_tokens)

    def transcribe(self, audio: Any, slot: str = "", grammar: str = "free") -> tuple[str, float]:
        """Text and confidence (0..1) of one utterance; ("", 0) when it holds no speech."""
        hints = self.hotwords(slot, grammar) or None
        queued = time.perf_counter()
        with self._slots:
            started = time.perf_counter()
            segments, _info = self.model.transcribe(
                audio,
                language="vi",
                task="transcribe",
                beam_size=self.beam_size,
                best_of=1,
                temperature=0.0,
                condition_on_previous_text=False,
                without_timestamps=True,
                vad_filter=False,
                hotwords=hints,
                max_new_tokens=min(220, int(TOKENS_PER_S * len(audio) / 16000) + 10),
            )
            segs = list(segments)  # decoding happens while iterating
            ended = time.perf_counter()
        with self._stats_lock:
            self.stats.queue_s.append(started - queued)
            self.stats.decode_s.append(ended - started)
            self.stats.audio_s.append(len(audio) / 16000)
        kept = [s for s in segs if not (s.no_speech_prob > NO_SPEECH_PROB and s.avg_logprob < -1.0)]
        text = " ".join(s.text.strip() for s in kept).strip()
        if grammar != "digits":
            text = collapse_repeats(text)
        if any(h in text.lower() for h in HALLUCINATIONS):
            return "", 0.0
        if not text:
            return "", 0.0
        logprob = sum(s.avg_logprob for s in kept) / len(kept)
        return text, round(min(1.0, math.exp(logprob)), 3)


def collapse_repeats(text: str) -> str:
    """Whisper's failure mode on unclear audio is a loop ("tơ, tơ, tơ, ..."): a phrase of up to eight
    words said three or more times in a row is kept once (not for digit slots: "một một một")."""
    return REPEATS.sub(r"\1", text)


@lru_cache(maxsize=2)
def load_whisper(path: str, threads: int = 1, workers: int = 1) -> Any:
    """Load (once per process) the CTranslate2 Whisper model in folder ``path``, offline."""
    model_dir = Path(path)
    if not (model_dir / "model.bin").is_file():
        raise AsrUnavailable(
            f"không có mô hình Whisper tại {path} / no Whisper model at {path}; "
            "run `hotline models fetch whisper-base`"
        )
    os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for the network at run time
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise AsrUnavailable("faster-whisper is not installed (scripts/setup.sh installs it)") from exc
    try:
        return WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            num_workers=workers,
            local_files_only=True,
        )
    except Exception as exc:  # ctranslate2 raises RuntimeError/ValueError on a broken folder
        raise AsrUnavailable(f"mô hình hỏng / broken Whisper model at {path}: {exc}") from exc


class WhisperRecognizer:
    """One call's recogniser: endpointing per frame, a Whisper decode per utterance."""

    def __init__(
        self, engine: WhisperEngine, endpointer: Endpointer | None = None, vad: str = "silero"
    ) -> None:
        self._engine = engine
        self._endpointer = endpointer or Endpointer()
        self._vad: silero.SileroStream | None = None
        if vad == "silero":
            try:
                self._vad = silero.SileroStream()
            except Exception as exc:  # onnxruntime missing or the model unreadable
                log.warning("Silero VAD unavailable (%s): energy endpointing", exc)
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_FRAMES)
        self._audio: list[bytes] = []
        self._grammar = "free"
        self._slot = ""
        self.last_text = ""

    @property
    def grammar(self) -> str:
        return self._grammar

    @property
    def in_speech(self) -> bool:
        return self._endpointer.in_speech

    @property
    def vad(self) -> str:
        return "silero" if self._vad is not None else "energy"

    def listen(self, grammar: str = "free", extra_words: tuple[str, ...] = (), slot: str = "") -> None:
        """Start listening for the next utterance (the slot steers the hotwords)."""
        self._grammar = grammar
        self._slot = slot
        self._start_utterance()

    def _start_utterance(self) -> None:
        self._endpointer.reset()
        self._pre_roll.clear()
        self._audio = []
        if self._vad is not None:
            self._vad.reset()

    def _level(self, frame: bytes) -> float:
        """The level the endpointer sees: the onset needs Silero's speech decision (noise and clicks
        do not start an utterance); once speaking, Silero or the energy detector keeps it going, so a
        soft stretch that Silero doubts does not cut the utterance in two."""
        dbfs = frame_dbfs(frame)
        if self._vad is None:
            return dbfs
        speech = self._vad.feed(silero.upsample_8k_to_16k(frame))
        if speech or (self._endpointer.in_speech and dbfs >= self._endpointer.threshold_dbfs):
            return 0.0
        return -120.0

    def feed(self, frame: bytes) -> list[AsrEvent]:
        boundary = self._endpointer.feed_level(self._level(frame))
        if boundary is Boundary.NO_INPUT:
            return [NoInput()]
        if boundary is Boundary.SPEECH_START:
            self._audio = [*self._pre_roll, frame]
            self._pre_roll.clear()
            return [SpeechStarted()]
        if boundary in (Boundary.END_BY_SILENCE, Boundary.END_BY_MAX_DURATION):
            self._audio.append(frame)
            return [self._finish(boundary)]
        if self._endpointer.in_speech:
            self._audio.append(frame)
        else:
            self._pre_roll.append(frame)
        return []

    def finish(self) -> Final:
        """Force the end of the current utterance (e.g. the caller hung up)."""
        return self._finish(Boundary.END_BY_SILENCE)

    def _finish(self, reason: Boundary) -> Final:
        pcm = b"".join(self._audio)
        self._start_utterance()
        text, confidence = "", 0.0
        if len(pcm) >= MIN_SPEECH_S * 16000:
            audio = silero.upsample_8k_to_16k(pcm)
            text, confidence = self._engine.transcribe(audio, self._slot, self._grammar)
        self.last_text = text
        return Final(text=text, confidence=confidence, reason=reason, grammar=self._grammar)


def transcribe_pcm8k(engine: WhisperEngine, pcm: bytes, slot: str = "", grammar: str = "free") -> str:
    """Decode a whole 8 kHz recording as one utterance (no endpointing)."""
    return engine.transcribe(silero.upsample_8k_to_16k(pcm), slot, grammar)[0]


def transcribe_16k(engine: WhisperEngine, samples: np.ndarray[Any, Any], slot: str = "") -> str:
    return engine.transcribe(samples.astype(np.float32), slot)[0]
