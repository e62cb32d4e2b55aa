"""Recognition accuracy over a folder of recordings: WAV + ``.txt`` pairs -> WER, CER and speed.

Each ``name.wav`` with a ``name.txt`` beside it is one utterance. The audio is decoded as one
utterance (no endpointing) either ``clean`` (16 kHz, as recorded) or through the ``telephone`` band
(8 kHz, 300-3,400 Hz, then back up the way a live call is: the product's own path); clean audio is
read with PyAV at 16 kHz (faster-whisper's loader). Texts are compared
after the usual normalisation (lower case, punctuation removed, spaces collapsed); WER and CER are the
standard corpus-level edit-distance rates computed by ``jiwer``. RTF is decoding wall time over audio
time.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nlu.asr import silero
from nlu.asr.audio import AudioError, frames, load_slin8k
from nlu.asr.recognizer import Final, StreamingRecognizer
from nlu.asr.vad import Endpointer

Band = Literal["telephone", "clean"]
Decoder = Callable[[Path, Band], str]


@dataclass(frozen=True)
class Item:
    name: str
    reference: str
    hypothesis: str
    audio_s: float
    decode_s: float


@dataclass(frozen=True)
class Report:
    engine: str
    band: Band
    items: list[Item]
    wer: float
    cer: float
    rtf: float

    def summary(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "n": len(self.items),
            "wer": self.wer,
            "cer": self.cer,
            "rtf": self.rtf,
        }


def normalise(text: str) -> str:
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return re.sub(r"\s+", " ", text.replace("_", " ")).strip()


def pairs(folder: Path) -> list[tuple[Path, str]]:
    """The (WAV, transcript) pairs in ``folder``, sorted by name; WAVs without a (non-empty) .txt are
    skipped."""
    if not folder.is_dir():
        raise AudioError(f"không có thư mục / no such folder: {folder}")
    found = []
    for wav in sorted(folder.glob("*.wav")):
        txt = wav.with_suffix(".txt")
        text = txt.read_text("utf-8").strip() if txt.is_file() else ""
        if text:
            found.append((wav, text))
    if not found:
        raise AudioError(f"không có cặp .wav + .txt / no .wav files with a .txt transcript in {folder}")
    return found


def load_pcm(path: Path, band: Band) -> tuple[bytes, int]:
    """16-bit mono PCM of ``path`` and its rate: 16 kHz (clean) or the 8 kHz telephone band."""
    if band == "clean":
        if not path.is_file():
            raise AudioError(f"không có tệp / no such file: {path}")
        from faster_whisper import decode_audio  # PyAV: the loader Whisper's own tools use

        try:
            samples = decode_audio(str(path), sampling_rate=16000)
        except Exception as exc:  # av raises its own error types for unreadable files
            raise AudioError(f"không đọc được âm thanh / cannot decode {path}: {exc}") from exc
        return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes(), 16000
    pcm = load_slin8k(path)
    return telephone_band(pcm), 8000


def telephone_band(pcm8k: bytes) -> bytes:
    """300-3,400 Hz band-pass of 8 kHz PCM (sox ``sinc``), as a telephone line passes it."""
    args = ["-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L"]
    proc = subprocess.run(
        ["sox", *args, "-", *args, "-", "sinc", "300-3400"], input=pcm8k, capture_output=True
    )
    if proc.returncode != 0:
        raise AudioError("sox could not band-limit the audio")
    return proc.stdout


def whisper_decoder(engine: Any, slot: str = "") -> Callable[[bytes, int], str]:
    def decode(pcm: bytes, rate: int) -> str:
        if rate == 8000:
            samples = silero.upsample_8k_to_16k(pcm)
        else:
            samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        text: str = engine.transcribe(samples, slot, "free")[0]
        return text

    return decode


def vosk_decoder(model: Any) -> Callable[[bytes, int], str]:
    def decode(pcm: bytes, rate: int) -> str:
        if rate != 8000:
            raise AudioError("Vosk is evaluated on the telephone band only (--band telephone)")
        rec = StreamingRecognizer(model, Endpointer(silence_ms=1500, max_utterance_ms=120_000))
        texts = []
        for frame in frames(pcm + b"\x00" * 32000):
            texts += [e.text for e in rec.feed(frame) if isinstance(e, Final) and e.text]
        return " ".join(texts)

    return decode


def evaluate(
    folder: Path,
    band: Band,
    engine_name: str,
    decode: Callable[[bytes, int], str],
    on_item: Callable[[Item], None] | None = None,
) -> Report:
    import jiwer

    items: list[Item] = []
    for wav, reference in pairs(folder):
        pcm, rate = load_pcm(wav, band)
        start = time.perf_counter()
        hypothesis = decode(pcm, rate)
        item = Item(wav.stem, reference, hypothesis, len(pcm) / (2 * rate), time.perf_counter() - start)
        items.append(item)
        if on_item:
            on_item(item)
    refs = [normalise(i.reference) for i in items]
    hyps = [normalise(i.hypothesis) for i in items]
    audio = sum(i.audio_s for i in items)
    return Report(
        engine=engine_name,
        band=band,
        items=items,
        wer=round(float(jiwer.wer(refs, hyps)), 4),
        cer=round(float(jiwer.cer(refs, hyps)), 4),
        rtf=round(sum(i.decode_s for i in items) / audio, 4) if audio else 0.0,
    )
