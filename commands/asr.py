"""``hotline asr``: transcribe a recording, and measure recognition accuracy over a folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

import wiring
from commands.errors import UserError, load_settings
from nlu.asr.audio import AudioError
from nlu.asr.evaluation import Band, Item, evaluate, load_pcm, vosk_decoder, whisper_decoder
from nlu.asr.recognizer import AsrUnavailable

engine_option = click.option(
    "--engine",
    type=click.Choice(["auto", "vosk", "whisper"]),
    default=None,
    help="Recogniser (default: the asr.engine setting).",
)
band_option = click.option(
    "--band",
    type=click.Choice(["telephone", "clean"]),
    default="telephone",
    show_default=True,
    help="telephone: 8 kHz, 300-3,400 Hz as on a call; clean: the recording as is (16 kHz).",
)


@click.group("asr")
def asr_group() -> None:
    """Speech recognition on recordings: transcribe one, evaluate a folder."""


def _decoder(engine: str | None, slot: str) -> tuple[str, Any]:
    try:
        choice, model = wiring.build(load_settings()).speech(engine or "")
    except AsrUnavailable as exc:
        raise UserError(str(exc)) from exc
    if choice.engine == "whisper":
        return "whisper", whisper_decoder(model, slot)
    return "vosk", vosk_decoder(model)


@asr_group.command(
    "transcribe",
    epilog="""\b
Examples:
  hotline asr transcribe caller.wav
  hotline asr transcribe caller.wav --engine whisper --band clean""",
)
@click.argument("wav", type=click.Path(dir_okay=False, path_type=Path))
@engine_option
@band_option
@click.option("--slot", default="", help="Hint the recogniser with a slot's words (e.g. ward, intent).")
def transcribe_cmd(wav: Path, engine: str | None, band: Band, slot: str) -> None:
    """Print the text of a recording (WAV or anything sox reads), decoded as one utterance."""
    name, decode = _decoder(engine, slot)
    try:
        pcm, rate = load_pcm(wav, band)
        if name == "vosk" and band == "clean":
            raise UserError(
                "Vosk nghe âm thanh điện thoại / Vosk decodes the telephone band: use --band telephone"
            )
        click.echo(decode(pcm, rate))
    except AudioError as exc:
        raise UserError(str(exc)) from exc


@asr_group.command(
    "eval",
    epilog="""\b
Each NAME.wav in DIR needs NAME.txt with what is said in it. The last line is JSON:
  {"engine": "whisper", "n": 6, "wer": 0.28, "cer": 0.17, "rtf": 0.3}
Examples:
  hotline asr eval recordings/
  hotline asr eval recordings/ --band clean --engine whisper""",
)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@engine_option
@band_option
@click.option("--slot", default="", help="Hint the recogniser with a slot's words (default: none).")
def eval_cmd(folder: Path, engine: str | None, band: Band, slot: str) -> None:
    """Word and character error rates (WER, CER) and real-time factor over WAV + .txt pairs."""
    name, decode = _decoder(engine, slot)
    if name == "vosk" and band == "clean":
        raise UserError(
            "Vosk nghe âm thanh điện thoại / Vosk decodes the telephone band: use --band telephone"
        )

    def show(item: Item) -> None:
        click.echo(f"{item.name}\t{item.audio_s:.1f}s\t{item.reference}\t->\t{item.hypothesis}")

    try:
        report = evaluate(folder, band, name, decode, on_item=show)
    except AudioError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"band={band} wer={report.wer} cer={report.cer} rtf={report.rtf}")
    click.echo(json.dumps(report.summary(), ensure_ascii=False))
