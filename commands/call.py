"""``hotline call``: run the AI operator over a recorded call (ASR + understanding + dialogue)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from commands.chat import (
    build_interpreter,
    console_ports,
    interpreter_option,
    print_actions,
)
from commands.db import services
from commands.errors import UserError
from nlu.asr.audio import AudioError, frames, load_slin8k
from nlu.asr.engines import recognizer_maker
from nlu.asr.recognizer import AsrUnavailable, StreamingRecognizer, load_model
from nlu.asr.vad import Endpointer
from nlu.dialogue.engine import DialogueEngine
from nlu.dialogue.runner import Runner
from nlu.knowledge import default_index
from nlu.simulate import simulate


@click.group("call")
def call_group() -> None:
    """Simulate calls without a phone line."""


@call_group.command(
    "simulate",
    epilog="""\b
Examples:
  hotline call simulate --wav caller.wav
  hotline call simulate --wav caller.wav --caller-id 0912345678 --create""",
)
@click.option(
    "--wav",
    "wav",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The caller's side of a call (WAV or anything sox reads; converted to 8 kHz).",
)
@click.option(
    "--model",
    type=click.Path(file_okay=False, path_type=Path),
    help="Vosk model folder (default: the configured engine, asr.engine).",
)
@interpreter_option
@click.option("--caller-id", default="", help="The calling number the PBX would see.")
@click.option("--silence-ms", default=700, show_default=True, help="Silence that ends an utterance.")
@click.option("--create", is_flag=True, help="File the report through the ticket service.")
@click.option(
    "--dossiers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV table of dossiers (code,status,...) answering dossier lookups.",
)
@click.option("--json", "as_json", is_flag=True, help="Print only the result as JSON.")
def simulate_cmd(
    wav: Path,
    model: Path | None,
    interpreter_kind: str,
    caller_id: str,
    silence_ms: int,
    create: bool,
    dossiers: Path | None,
    as_json: bool,
) -> None:
    """Run ASR and the dialogue engine over a WAV file; print the transcript, turns and draft."""
    root = services(database=False)
    settings = root.settings
    recognizer: Any
    try:
        audio = load_slin8k(wav)
        if model is not None:  # an explicit Vosk model folder
            model_path: Path = model
            recognizer = StreamingRecognizer(load_model(str(model)), Endpointer(silence_ms=silence_ms))
        else:  # the configured engine (asr.engine): Vosk where installed, else Whisper
            choice, loaded = root.speech()
            model_path = choice.path
            recognizer = recognizer_maker(choice, loaded, settings, silence_ms)()
    except (AudioError, AsrUnavailable) as exc:
        raise UserError(str(exc)) from exc
    ports = console_ports(root, dossiers, create)
    interpreter = build_interpreter(interpreter_kind, settings.city, root)
    if not as_json:
        click.echo(root.nlu_status(interpreter), err=True)
    engine = DialogueEngine(
        interpreter,
        default_index(),
        caller_id=caller_id,
        city=settings.city,
        hotline=settings.pbx.hotline_number,
    )
    runner = Runner(engine, ports)

    def show(actions: list[Any]) -> None:
        if not as_json:
            print_actions(actions, False)

    result = simulate(runner, recognizer, frames(audio), on_actions=None if as_json else show)
    output: dict[str, Any] = {
        "model": str(model_path),
        "audio_seconds": round(len(audio) / 16000, 2),
        "turns": [
            {"speaker": t.speaker, "at_s": round(t.at_s, 2), "text": t.text}
            | ({"confidence": round(t.confidence, 3)} if t.confidence is not None else {})
            for t in result.turns
        ],
        "transcript": " / ".join(t.text for t in result.turns if t.speaker == "caller"),
        "draft": (runner.dry_run_draft or engine.draft).to_dict(),
        "tickets": [{"code": code, "complete": complete} for code, complete in runner.created],
        "outcome": type(result.actions[-1]).__name__ if result.actions else "",
    }
    click.echo(json.dumps(output, ensure_ascii=False, indent=2, default=str))
