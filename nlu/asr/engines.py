"""Which recogniser a process uses (``asr.engine``), loaded once, and a per-call recogniser factory.

``auto`` (the default) picks Vosk where a Vietnamese Vosk model is installed or configured (streaming,
per-slot grammars, cheaper per call), else Whisper where its model folder is assembled, else nothing
(the call falls back to the keypad menu). See ``docs/decisions/140``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from config.settings import Settings
from nlu.asr.models import resolve_model_path
from nlu.asr.recognizer import AsrUnavailable, StreamingRecognizer, load_model
from nlu.asr.vad import Endpointer
from nlu.asr.whisper import WhisperEngine, WhisperRecognizer, load_whisper
from nlu.asr.whisper_model import resolve_whisper_path

log = logging.getLogger(__name__)

Engine = Literal["vosk", "whisper"]


@dataclass(frozen=True)
class Choice:
    engine: Engine
    path: Path


def choose(settings: Settings, engine: str = "") -> Choice | None:
    """The engine and model folder to use; None when no model of the wanted engine is installed."""
    wanted = engine or settings.asr.engine
    if wanted in ("auto", "vosk"):
        vosk = resolve_model_path(settings.nlu.vosk_model_path, settings.models_dir)
        if vosk is not None:
            return Choice("vosk", vosk)
        if wanted == "vosk":
            return None
    whisper = resolve_whisper_path(settings.asr.whisper_model_path, settings.models_dir)
    return Choice("whisper", whisper) if whisper is not None else None


def whisper_engine(settings: Settings, path: Path) -> WhisperEngine:
    a = settings.asr
    model = load_whisper(str(path), a.whisper_threads, a.whisper_workers)
    return WhisperEngine(model, settings.city, a.whisper_beam_size, a.whisper_workers)


def load(settings: Settings, engine: str = "") -> tuple[Choice, Any]:
    """Load the chosen model (Vosk model or :class:`WhisperEngine`); raises :class:`AsrUnavailable`."""
    choice = choose(settings, engine)
    if choice is None:
        hint = (
            "hotline models fetch whisper-base"
            if (engine or settings.asr.engine) != "vosk"
            else ("hotline models fetch vi-small")
        )
        raise AsrUnavailable(f"chưa có mô hình nhận dạng giọng nói / no speech model installed; run `{hint}`")
    if choice.engine == "vosk":
        return choice, load_model(str(choice.path))
    return choice, whisper_engine(settings, choice.path)


def recognizer_maker(
    choice: Choice, model: Any, settings: Settings, silence_ms: int = 700
) -> Callable[[], StreamingRecognizer | WhisperRecognizer]:
    if choice.engine == "vosk":
        return lambda: StreamingRecognizer(model, Endpointer(silence_ms=silence_ms))
    vad = settings.asr.vad
    return lambda: WhisperRecognizer(model, Endpointer(silence_ms=silence_ms), vad=vad)
