"""Vietnamese voice prompts: texts from Jinja2 templates, audio from espeak-ng, cached by text hash.

Templates live in ``pbx/prompts/<name>.j2`` (rendered with ``StrictUndefined``, so a missing value is
an error, not a silent gap). Audio is made with ``espeak-ng -v vi`` and converted by ``sox`` to 8 kHz
mono signed-linear 16-bit (``.sln``, what AudioSocket carries and Asterisk plays natively). Files are
cached in ``<data_dir>/prompts/<sha256>.sln``, keyed by voice, speed and text, so each distinct
sentence is synthesised once.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, UndefinedError

import reference
from config.settings import Settings
from pbx.recorded_prompts import PAUSE, RecordedPrompts

TEMPLATE_DIR = Path(__file__).with_name("prompts")
VOICE = "vi"
SPEED_WPM = 150
SAMPLE_RATE = 8000
DIGIT_WORDS = {
    "0": "không",
    "1": "một",
    "2": "hai",
    "3": "ba",
    "4": "bốn",
    "5": "năm",
    "6": "sáu",
    "7": "bảy",
    "8": "tám",
    "9": "chín",
    "*": "sao",
    "#": "thăng",
}
# as spoken mid-sentence: "thành phố Hà Nội"
CITY_NAMES = {city: name[0].lower() + name[1:] for city, name in reference.CITY_NAMES.items()}


def prompt_library(settings: Settings) -> PromptLibrary:
    """The hotline's prompt library: cache and human recordings under ``<data_dir>/prompts``."""
    return PromptLibrary(
        settings.data_dir / "prompts",
        hotline_number=settings.pbx.hotline_number,
        city_name=CITY_NAMES[settings.city],
    )


class PromptError(RuntimeError):
    """A prompt could not be rendered or synthesised."""


def spoken_digits(code: object) -> str:
    """``"12A3"`` -> ``"một hai A ba"``: codes are read one character at a time."""
    return " ".join(DIGIT_WORDS.get(ch, ch) for ch in str(code) if not ch.isspace() and ch not in "-./")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        autoescape=False,  # plain text for a speech synthesiser, never HTML
        keep_trailing_newline=False,
    )
    env.filters["spoken_digits"] = spoken_digits
    return env


_ENV = _environment()


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.j2"))


def render_text(name: str, **values: object) -> str:
    """The prompt's sentence, whitespace-normalised."""
    try:
        template = _ENV.get_template(f"{name}.j2")
    except TemplateNotFound as exc:
        raise PromptError(f"no prompt template named {name!r}") from exc
    text = " ".join(template.render(**values).split())
    if not text:
        raise PromptError(f"prompt {name!r} rendered to nothing")
    return text


def cache_key(text: str, voice: str = VOICE, speed: int = SPEED_WPM) -> str:
    return hashlib.sha256(f"{voice}|{speed}|{SAMPLE_RATE}|{text}".encode()).hexdigest()


def _tools() -> tuple[str, str]:
    espeak = shutil.which("espeak-ng")
    sox = shutil.which("sox")
    if not espeak or not sox:
        raise PromptError("espeak-ng and sox are needed for prompts (bash scripts/setup.sh installs them)")
    return espeak, sox


def _commands(text: str, wav: Path, out: Path, voice: str, speed: int) -> tuple[list[str], list[str]]:
    espeak, sox = _tools()
    synth = [espeak, "-v", voice, "-s", str(speed), "-w", str(wav), "--", text]
    convert = [sox, str(wav), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
               "-t", "raw", str(out)]  # fmt: skip
    return synth, convert


class PromptLibrary:
    """Renders and synthesises prompts into ``cache_dir``; returns raw slin16 8 kHz audio or its path."""

    def __init__(
        self,
        cache_dir: Path,
        voice: str = VOICE,
        speed: int = SPEED_WPM,
        recordings: Path | None = None,
        **defaults: object,
    ):
        self.cache_dir = cache_dir
        self.voice = voice
        self.speed = speed
        self.defaults = defaults
        # human recordings of fixed sentences (hotline prompts import), preferred to the synthesiser
        self.recorded = RecordedPrompts(recordings or cache_dir / "recorded")

    def text(self, name: str, **values: object) -> str:
        return render_text(name, **{**self.defaults, **values})

    def path_for(self, text: str) -> Path:
        voice = self.voice
        if self.recorded.index and self.recorded.plan(text) is not None:
            voice = f"{voice}+recorded:{self.recorded.version}"
        return self.cache_dir / f"{cache_key(text, voice, self.speed)}.sln"

    def synthesize(self, text: str) -> Path:
        """Blocking: make (or reuse) the audio file for ``text``: recorded sentences from their
        recordings, the others from espeak-ng, stitched with a short pause."""
        target = self.path_for(text)
        if target.is_file():
            return target
        plan = self.recorded.plan(text) if self.recorded.index else None
        if plan is not None:
            pieces = [
                rec.read_bytes() if rec else self.synthesize(sentence).read_bytes() for sentence, rec in plan
            ]
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            part.write_bytes(PAUSE.join(pieces))
            os.replace(part, target)  # atomic, as below
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.cache_dir) as tmp:
            wav, raw = Path(tmp) / "p.wav", Path(tmp) / "p.sln"
            for cmd in _commands(text, wav, raw, self.voice, self.speed):
                done = subprocess.run(cmd, capture_output=True, check=False, timeout=60)
                if done.returncode != 0:
                    raise PromptError(
                        f"{Path(cmd[0]).name} failed: {done.stderr.decode(errors='replace')[:200]}"
                    )
            os.replace(raw, target)  # atomic: concurrent callers see a whole file or none
        return target

    async def asynthesize(self, text: str) -> Path:
        target = self.path_for(text)
        if target.is_file():
            return target
        return await asyncio.to_thread(self.synthesize, text)

    async def audio(self, name: str, **values: object) -> bytes:
        """Raw slin16 8 kHz audio of a rendered template."""
        path = await self.asynthesize(self.text(name, **values))
        return await asyncio.to_thread(path.read_bytes)

    def warm(self) -> int:
        """Synthesise every template that needs no per-call values; returns how many were made."""
        made = 0
        for name in template_names():
            try:
                text = self.text(name)
            except UndefinedError:  # templates with per-call values (dossier codes...) are made on demand
                continue
            if not self.path_for(text).is_file():
                self.synthesize(text)
                made += 1
        return made
