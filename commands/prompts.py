"""``hotline prompts``: the script for a voice talent, importing the recordings, and how well callers
can understand each prompt (recognised back by Whisper)."""

from __future__ import annotations

import json
from pathlib import Path

import click

import wiring
from commands.errors import UserError, load_settings
from nlu.asr.evaluation import normalise
from nlu.asr.recognizer import AsrUnavailable
from nlu.asr.whisper import transcribe_pcm8k
from pbx.prompts import CITY_NAMES, PromptError
from pbx.recorded_prompts import RecordingError, check_recording, export, fixed_prompts


@click.group("prompts")
def prompts_group() -> None:
    """Voice prompts: human recordings instead of the synthesiser, and their intelligibility."""


def _fixed() -> dict[str, str]:
    settings = load_settings()
    return fixed_prompts(settings.pbx.hotline_number, CITY_NAMES[settings.city])


@prompts_group.command(
    "export",
    epilog="""\b
Writes DIR/prompts.tsv (id, text) and DIR/<id>.txt for each fixed sentence. Record each as
DIR/<id>.wav (mono WAV, at least 8 kHz), then: hotline prompts import DIR
Example:
  hotline prompts export kich-ban/""",
)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export_cmd(folder: Path) -> None:
    """Write every fixed prompt sentence with its id: the script for a voice talent."""
    n = export(folder, _fixed())
    click.echo(f"{n} câu / sentences -> {folder / 'prompts.tsv'}")


@prompts_group.command(
    "import",
    epilog="""\b
Each DIR/<id>.wav is checked (WAV, >= 8 kHz, not clipped, loud enough, as long as its text needs)
and, if good, used on calls instead of the synthesiser for that sentence. Bad files are listed with
the reason and not used; the good ones are imported anyway (exit status 1 if any was refused).
Example:
  hotline prompts import ghi-am/""",
)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def import_cmd(folder: Path) -> None:
    """Check and import human recordings of the exported sentences."""
    if not folder.is_dir():
        raise UserError(f"không có thư mục / no such folder: {folder}")
    fixed = _fixed()
    wavs = sorted(folder.glob("*.wav"))
    if not wavs:
        raise UserError(f"không có tệp .wav / no .wav files in {folder}")
    library = wiring.build(load_settings()).prompts
    refused = 0
    for wav in wavs:
        text = fixed.get(wav.stem)
        if text is None:
            click.echo(f"refused\t{wav.name}\tkhông có câu mã {wav.stem} / no prompt with id {wav.stem}")
            refused += 1
            continue
        try:
            checked = check_recording(wav, wav.stem, text)
        except RecordingError as exc:
            click.echo(f"refused\t{wav.name}\t{exc}")
            refused += 1
            continue
        library.recorded.add(text, checked)
        click.echo(f"imported\t{wav.name}\t{checked.seconds:.1f} s\t{checked.rms_dbfs} dBFS")
    click.echo(f"{len(wavs) - refused} imported, {refused} refused")
    if refused:
        raise UserError(f"{refused} tệp bị từ chối / {refused} recording(s) refused (see above)")


@prompts_group.command(
    "intelligibility",
    epilog="""\b
Each fixed sentence is made as callers hear it (recording, else espeak-ng, 8 kHz) and recognised back
by Whisper; the word error rate per sentence is listed worst first. Last line JSON:
  {"engine": "whisper", "n": 48, "wer": 0.7, "worst": ["greeting-2", ...]}
Example:
  hotline prompts intelligibility --limit 5""",
)
@click.option("--limit", type=int, default=0, help="Only the first N sentences (0: all).")
def intelligibility_cmd(limit: int) -> None:
    """How well each prompt is understood: WER of prompt audio -> Whisper, worst first."""
    import jiwer

    services = wiring.build(load_settings())
    try:
        _, engine = services.speech("whisper")
    except AsrUnavailable as exc:
        raise UserError(str(exc)) from exc
    library = services.prompts
    items = list(_fixed().items())[: limit or None]
    rows = []
    for pid, text in items:
        try:
            pcm = library.synthesize(text).read_bytes()
        except PromptError as exc:
            raise UserError(str(exc)) from exc
        heard = transcribe_pcm8k(engine, pcm)
        wer = float(jiwer.wer(normalise(text), normalise(heard) or "-"))
        rows.append((wer, pid, text, heard))
    rows.sort(key=lambda r: -r[0])
    for wer, pid, text, heard in rows:
        click.echo(f"{wer:.2f}\t{pid}\t{text}\t->\t{heard}")
    refs = [normalise(r[2]) for r in rows]
    hyps = [normalise(r[3]) or "-" for r in rows]
    total = round(float(jiwer.wer(refs, hyps)), 4) if rows else 0.0
    worst = [r[1] for r in rows[:5]]
    click.echo(
        json.dumps({"engine": "whisper", "n": len(rows), "wer": total, "worst": worst}, ensure_ascii=False)
    )
