"""Real Vietnamese speech for tests: the Whisper model assembled once per test session from the
installed weight packages, and the natural recordings shipped in the ``vieneu`` wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nlu.asr.whisper import WhisperEngine, load_whisper
from nlu.asr.whisper_model import assemble_whisper


def vieneu_samples() -> list[tuple[Path, str]]:
    """(WAV, transcript) of the six natural recordings (24 kHz; northern and southern voices)."""
    import vieneu

    folder = Path(vieneu.__file__).parent / "assets" / "samples"
    return [(wav, wav.with_suffix(".txt").read_text("utf-8").strip()) for wav in sorted(folder.glob("*.wav"))]


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble_whisper(tmp_path_factory.mktemp("models")).path


@pytest.fixture(scope="session")
def whisper_engine(whisper_dir: Path) -> Any:
    return WhisperEngine(load_whisper(str(whisper_dir)), "hanoi")
