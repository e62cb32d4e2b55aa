"""Prompts: every template renders, and the real espeak-ng + sox produce 8 kHz speech, cached."""

from __future__ import annotations

import array
import math
from pathlib import Path

import pytest

from pbx.prompts import PromptError, PromptLibrary, render_text, spoken_digits, template_names

VALUES = {"hotline_number": "1022", "city_name": "thành phố Hà Nội", "code": "123#", "status": "đang xử lý"}


def rms(pcm: bytes) -> float:
    samples = array.array("h", pcm)
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def test_every_template_renders_vietnamese_text() -> None:
    names = template_names()
    assert {"greeting", "operator_offer", "transfer", "dossier_status"} <= set(names)
    for name in names:
        text = render_text(name, **VALUES)
        assert text and "{" not in text and "\n" not in text


def test_missing_value_is_an_error_not_a_gap() -> None:
    with pytest.raises(Exception, match="hotline_number"):
        render_text("greeting", city_name="x")
    with pytest.raises(PromptError):
        render_text("no_such_prompt")


def test_spoken_digits() -> None:
    assert spoken_digits("0912") == "không chín một hai"
    assert spoken_digits("7#") == "bảy thăng"
    assert "ba bốn" in render_text("dossier_status", code="34", status="x")


def test_synthesis_is_real_speech_at_8khz_and_cached(tmp_path: Path) -> None:
    lib = PromptLibrary(tmp_path / "prompts", hotline_number="1022", city_name="thành phố Hà Nội")
    text = lib.text("operator_offer")
    path = lib.synthesize(text)
    pcm = path.read_bytes()
    seconds = len(pcm) / 16000
    assert 2.0 < seconds < 15.0  # a sentence, at 8000 samples/s x 2 bytes
    assert rms(pcm) > 500  # speech energy, not silence
    mtime = path.stat().st_mtime_ns
    assert lib.synthesize(text) == path and path.stat().st_mtime_ns == mtime  # cache hit
    other = lib.synthesize(lib.text("transfer"))
    assert other != path and other.parent == path.parent


async def test_async_audio_and_warm(tmp_path: Path) -> None:
    lib = PromptLibrary(tmp_path / "p", hotline_number="1022", city_name="thành phố Cần Thơ")
    pcm = await lib.audio("goodbye")
    assert len(pcm) % 2 == 0 and rms(pcm) > 500
    made = lib.warm()
    # goodbye was cached already; dossier_status and dossier_not_found need a code and are skipped
    assert made == len(template_names()) - 3
    assert len(list((tmp_path / "p").glob("*.sln"))) == len(template_names()) - 2
