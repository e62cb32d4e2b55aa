"""Real Vietnamese speech for tests: the Whisper model assembled once per test session from the
installed weight packages, and the natural recordings shipped in the ``vieneu`` wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nlu.asr.whisper import WhisperEngine, load_whisper
from nlu.asr.whisper_model import assemble_whisper


def vieneu_folder() -> Path:
    """The recordings' folder inside the installed ``vieneu`` wheel, found from the distribution's
    metadata: only its data files are used, so setup installs it without its (large) dependencies and
    the package itself is never imported."""
    from importlib.metadata import distribution

    return Path(str(distribution("vieneu").locate_file("vieneu/assets/samples")))


def vieneu_samples() -> list[tuple[Path, str]]:
    """(WAV, transcript) of the six natural recordings (24 kHz; northern and southern voices)."""
    folder = vieneu_folder()
    return [(wav, wav.with_suffix(".txt").read_text("utf-8").strip()) for wav in sorted(folder.glob("*.wav"))]


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble_whisper(tmp_path_factory.mktemp("models")).path


@pytest.fixture(scope="session")
def whisper_engine(whisper_dir: Path) -> Any:
    return WhisperEngine(load_whisper(str(whisper_dir)), "hanoi")


DOMAIN_UTTERANCES = (
    ("report_lights", "tôi muốn phản ánh đèn đường bị hỏng"),
    ("ward_dong_da", "phường đống đa"),
    ("operator", "cho tôi gặp tổng đài viên"),
)


def write_fixtures(folder: Path, vieneu: int = 6, domain: bool = True) -> Path:
    """WAV + .txt pairs for ``hotline asr eval``: the first ``vieneu`` natural recordings, and the
    domain utterances spoken by espeak-ng (the voice callers hear today)."""
    import shutil
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    for wav, text in vieneu_samples()[:vieneu]:
        shutil.copyfile(wav, folder / wav.name)
        (folder / wav.with_suffix(".txt").name).write_text(text + "\n", "utf-8")
    if domain:
        for name, text in DOMAIN_UTTERANCES:
            subprocess.run(
                ["espeak-ng", "-v", "vi", "-w", str(folder / f"espeak_{name}.wav"), "--", text], check=True
            )
            (folder / f"espeak_{name}.txt").write_text(text + "\n", "utf-8")
    return folder
