"""Human-recorded prompts: the exported script, the checks on imported recordings, recorded sentences
stitched with synthesised ones at play time, and the intelligibility measure (real espeak-ng, sox and
Whisper)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from config.settings import get_settings
from pbx.prompts import PromptLibrary
from pbx.recorded_prompts import PAUSE, RecordingError, check_recording, fixed_prompts
from tests.speech import whisper_dir  # noqa: F401


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whisper_dir: Path) -> Iterator[Path]:  # noqa: F811
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOTLINE_ASR__WHISPER_MODEL_PATH", str(whisper_dir))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _say(path: Path, text: str, *effects: str) -> Path:
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(raw), "--", text], check=True)
    subprocess.run(["sox", str(raw), str(path), *effects], check=True)
    raw.unlink()
    return path


def test_export_lists_fixed_sentences_only() -> None:
    fixed = fixed_prompts("1022", "thành phố Hà Nội")
    texts = set(fixed.values())
    assert fixed["not_heard-1"] == "Xin lỗi, tôi chưa nghe rõ."
    assert "Tổng đài 1022 thành phố Hà Nội xin kính chào quý khách." in texts
    assert "Phản ánh của anh/chị đã được tiếp nhận." in texts
    # sentences holding a per-call value (codes, phone numbers) stay synthesised
    assert not [t for t in texts if "Mã số theo dõi là" in t or "có phải là" in t]


def test_recording_checks(tmp_path: Path) -> None:
    text = "Xin lỗi, tôi chưa nghe rõ."
    good = check_recording(_say(tmp_path / "a.wav", text), "not_heard-1", text)
    assert (
        1.0 < good.seconds < 4
        and good.rms_dbfs > -35
        and len(good.pcm8k) == pytest.approx(good.seconds * 16000, rel=0.05)
    )
    cases = {
        "clipped": ("gain", "25"),
        "too quiet": ("gain", "-40"),
        "does not fit": ("pad", "0", "12"),
        "sample rate": ("rate", "6000"),
    }
    for reason, effects in cases.items():
        with pytest.raises(RecordingError, match=reason):
            check_recording(_say(tmp_path / f"{reason[:4]}.wav", text, *effects), "x", text)
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(RecordingError, match="readable"):
        check_recording(tmp_path / "text.wav", "x", text)


def test_import_then_calls_play_the_recording_stitched_with_tts(env: Path) -> None:
    rec = env / "rec"
    rec.mkdir()
    _say(rec / "not_heard-1.wav", "Xin lỗi, tôi chưa nghe rõ.", "rate", "16000")
    _say(rec / "ask_name-1.wav", "Anh chị vui lòng cho biết họ và tên ạ.", "gain", "-40")
    runner = CliRunner()
    out = runner.invoke(main, ["prompts", "import", str(rec)])
    assert out.exit_code == 1 and "1 imported, 1 refused" in out.output and "too quiet" in out.output
    library = PromptLibrary(env / "data" / "prompts")
    recorded = library.recorded.recorded("Xin lỗi, tôi chưa nghe rõ.")
    assert recorded is not None
    tts_only = PromptLibrary(env / "tts")
    text = "Xin lỗi, tôi chưa nghe rõ. Sự việc xảy ra ở đâu ạ?"
    assert library.path_for(text) != tts_only.path_for(text)
    audio = library.synthesize(text).read_bytes()
    assert audio.startswith(recorded.read_bytes() + PAUSE)
    tts_part = tts_only.synthesize("Sự việc xảy ra ở đâu ạ?").read_bytes()  # sox dithers: same length
    assert len(audio) == len(recorded.read_bytes()) + len(PAUSE) + len(tts_part)
    # a prompt with no recorded sentence is synthesised as before
    plain = "Sự việc xảy ra ở đâu ạ?"
    assert library.path_for(plain).name == tts_only.path_for(plain).name


def test_export_cli(env: Path) -> None:
    out = CliRunner().invoke(main, ["prompts", "export", str(env / "script")])
    assert out.exit_code == 0, out.output
    rows = (env / "script" / "prompts.tsv").read_text("utf-8").splitlines()
    assert rows[0] == "id\ttext" and len(rows) > 30
    assert (env / "script" / "not_heard-1.txt").read_text("utf-8").strip() == "Xin lỗi, tôi chưa nghe rõ."


def test_intelligibility_lists_the_worst_first(env: Path) -> None:
    out = CliRunner().invoke(main, ["prompts", "intelligibility", "--limit", "2"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["engine"] == "whisper" and summary["n"] == 2 and summary["wer"] >= 0
    wers = [float(line.split("\t")[0]) for line in lines[:-1]]
    assert wers == sorted(wers, reverse=True)
