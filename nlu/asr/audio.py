"""Audio files in, telephone audio out: any file sox reads becomes 8 kHz 16-bit mono signed linear,
the format Asterisk's AudioSocket delivers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SLIN8K_ARGS = ("-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L")
FRAME_BYTES = 320  # 20 ms


class AudioError(RuntimeError):
    """The audio file could not be read or converted; the message is one line."""


def load_slin8k(path: Path) -> bytes:
    """Decode ``path`` (WAV or anything sox reads) to raw 8 kHz signed 16-bit little-endian mono."""
    if shutil.which("sox") is None:
        raise AudioError("cần cài sox / sox is not installed (apt-get install sox)")
    if not path.is_file():
        raise AudioError(f"không có tệp / no such file: {path}")
    proc = subprocess.run(["sox", str(path), *SLIN8K_ARGS, "-"], capture_output=True, check=False)
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(f"không đọc được âm thanh / cannot decode {path}: {reason[-1] if reason else '?'}")
    return proc.stdout


def frames(audio: bytes, size: int = FRAME_BYTES) -> list[bytes]:
    """Split into 20 ms frames, padding the last one with silence."""
    audio += b"\x00" * (-len(audio) % size)
    return [audio[i : i + size] for i in range(0, len(audio), size)]
