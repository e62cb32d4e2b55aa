"""Human-recorded prompts: the script for a voice talent, checking and importing the recordings, and
which sentences of a prompt play from a recording instead of the synthesiser.

The unit is the sentence. Every fixed sentence of every prompt template (the dialogue's and the
PBX's) is exported with an id; a sentence that holds a per-call value (a code, a name, a read-back)
is dynamic and stays synthesised. A recording is accepted only if it is a readable WAV of at least
8 kHz, not clipped, at a speaking level, and as long as its text needs (seconds per syllable in a
plausible range); it is converted to 8 kHz signed-linear and indexed by its sentence's text. At play
time :class:`RecordedPrompts` splits a prompt into sentences: recorded ones play from the recording,
the others are synthesised, stitched with a short pause.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import subprocess
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Undefined

SENTENCE = re.compile(r"(?<=[.?!])\s+")
HOLE = "\x00"
MIN_S_PER_SYLLABLE = 0.12
MAX_S_PER_SYLLABLE = 0.75
MIN_RMS_DBFS = -35.0
MAX_PEAK = 32000  # 16-bit samples at or above this are taken as clipping
PAUSE = b"\x00" * 3200  # 200 ms at 8 kHz 16-bit


class RecordingError(ValueError):
    """A recording failed a check; the message is one line."""


def _hole(value: str) -> type[Undefined]:
    """An Undefined that renders as ``value`` (a missing per-call value, made visible)."""

    class Hole(Undefined):
        def __str__(self) -> str:
            return value

        def __iter__(self) -> Any:
            return iter(value)

        def __len__(self) -> int:
            return len(value)

        def __getattr__(self, name: str) -> Any:  # filters call str methods on it
            if name.startswith("__"):
                raise AttributeError(name)
            return getattr(value, name)

    return Hole


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.split(text) if s.strip()]


def _fixed_sentences(env: Any, name: str, context: dict[str, Any]) -> list[str]:
    """The sentences that read the same whatever the per-call values are (rendered twice with two
    different stand-ins for them: filters such as digit reading may hide one but not both)."""
    renders = []
    for value in (HOLE, "9"):
        try:
            text = (
                env.overlay(undefined=_hole(value), cache_size=0).get_template(f"{name}.j2").render(**context)
            )
        except Exception:  # a filter that cannot take a missing value: the template is dynamic
            return []
        renders.append(sentences(" ".join(text.split())))
    other = set(renders[1])
    return [s for s in renders[0] if s in other and HOLE not in s and re.search(r"\w", s)]


def fixed_prompts(hotline: str, city_name: str) -> dict[str, str]:
    """Every fixed sentence of every prompt template, by id (``<template>-<n>``), deduplicated."""
    from nlu.dialogue import prompts as dialogue_prompts
    from pbx import prompts as pbx_prompts

    context = {"hotline": hotline, "hotline_number": hotline, "city_name": city_name}
    out: dict[str, str] = {}
    seen: set[str] = set()
    envs = [
        (dialogue_prompts._environment(), dialogue_prompts.template_names()),
        (pbx_prompts._ENV, pbx_prompts.template_names()),
    ]
    for env, names in envs:
        for name in names:
            for i, sentence in enumerate(_fixed_sentences(env, name, context), 1):
                if sentence not in seen:
                    seen.add(sentence)
                    out[f"{name}-{i}"] = sentence
    return out


def export(folder: Path, prompts: dict[str, str]) -> int:
    """Write ``prompts.tsv`` (id, text) and one ``<id>.txt`` per sentence into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id\ttext"] + [f"{pid}\t{text}" for pid, text in prompts.items()]
    (folder / "prompts.tsv").write_text("\n".join(lines) + "\n", "utf-8")
    for pid, text in prompts.items():
        (folder / f"{pid}.txt").write_text(text + "\n", "utf-8")
    return len(prompts)


@dataclass(frozen=True)
class Checked:
    prompt_id: str
    seconds: float
    rms_dbfs: float
    pcm8k: bytes


def _soxi(path: Path) -> tuple[str, int, float]:
    probe = [
        subprocess.run(["soxi", f, str(path)], capture_output=True, text=True) for f in ("-t", "-r", "-D")
    ]
    if any(p.returncode != 0 for p in probe):
        raise RecordingError("không đọc được tệp WAV / not a readable audio file")
    return probe[0].stdout.strip(), int(float(probe[1].stdout.strip())), float(probe[2].stdout.strip())


def check_recording(path: Path, prompt_id: str, text: str) -> Checked:
    """Check format, sample rate, level and duration against the text; return the 8 kHz audio."""
    if shutil.which("sox") is None or shutil.which("soxi") is None:
        raise RecordingError("cần cài sox / sox is not installed")
    kind, rate, seconds = _soxi(path)
    if kind != "wav":
        raise RecordingError(f"định dạng {kind}, cần WAV / format {kind}: WAV expected")
    if rate < 8000:
        raise RecordingError(f"tần số lấy mẫu quá thấp / sample rate {rate} Hz, at least 8000 needed")
    args = ["-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L"]
    proc = subprocess.run(["sox", str(path), *args, "-"], capture_output=True)
    if proc.returncode != 0:
        raise RecordingError("sox không chuyển đổi được / sox could not convert the file")
    samples = array("h")
    samples.frombytes(proc.stdout[: len(proc.stdout) // 2 * 2])
    if not samples:
        raise RecordingError("tệp rỗng / the recording is empty")
    peak = max(abs(s) for s in samples)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) or 1e-9
    rms_dbfs = 20 * math.log10(rms / 32768)
    if peak >= MAX_PEAK:
        raise RecordingError(f"bị méo (đỉnh {peak}) / clipped: peak {peak} of 32767; record with less gain")
    if rms_dbfs < MIN_RMS_DBFS:
        raise RecordingError(f"quá nhỏ / too quiet: {rms_dbfs:.1f} dBFS, at least {MIN_RMS_DBFS}")
    syllables = max(1, len(re.findall(r"\w+", text)))
    per = seconds / syllables
    if not MIN_S_PER_SYLLABLE <= per <= MAX_S_PER_SYLLABLE:
        raise RecordingError(
            f"độ dài không khớp câu / duration {seconds:.1f} s does not "
            f"fit {syllables} syllables ({MIN_S_PER_SYLLABLE}-{MAX_S_PER_SYLLABLE} s each): wrong file?"
        )
    return Checked(prompt_id, seconds, round(rms_dbfs, 1), proc.stdout)


class RecordedPrompts:
    """The imported recordings in ``folder`` (``index.json``: text -> file), used at play time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        index = folder / "index.json"
        self.index: dict[str, str] = json.loads(index.read_text("utf-8")) if index.is_file() else {}

    @property
    def version(self) -> str:
        """Changes whenever the set of recordings changes (part of the prompt cache key)."""
        if not self.index:
            return ""
        return hashlib.sha256(json.dumps(self.index, sort_keys=True).encode()).hexdigest()[:12]

    def add(self, text: str, checked: Checked) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(text.encode()).hexdigest()[:24] + ".sln"
        (self.folder / name).write_bytes(checked.pcm8k)
        self.index[text] = name
        tmp = self.folder / "index.json.tmp"
        tmp.write_text(json.dumps(self.index, ensure_ascii=False, indent=1), "utf-8")
        tmp.replace(self.folder / "index.json")
        return self.folder / name

    def recorded(self, sentence: str) -> Path | None:
        name = self.index.get(sentence)
        return self.folder / name if name else None

    def plan(self, text: str) -> list[tuple[str, Path | None]] | None:
        """Each sentence with its recording (or None: synthesise it); None when nothing is recorded."""
        parts = [(s, self.recorded(s)) for s in sentences(text)]
        return parts if any(p for _, p in parts) else None
