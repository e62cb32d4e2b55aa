"""``hotline models``: fetch and list the Vietnamese speech-recognition models."""

from __future__ import annotations

import click
from click._termui_impl import ProgressBar

from commands.errors import UserError, load_settings
from nlu.asr.catalog import CATALOG
from nlu.asr.download import DownloadError
from nlu.asr.models import fetch_model, installed_models, resolve_model_path


@click.group(name="models")
def models_group() -> None:
    """Speech-recognition (Vosk) models."""


@models_group.command(name="fetch", epilog="Example: hotline models fetch vi-small --sha256 <hex>")
@click.argument("key", type=click.Choice(sorted(CATALOG)))
@click.option("--sha256", default="", help="Expected sha256 of the archive (required when not pinned).")
@click.option("--site", default="", help="Mirror of the Vosk model site (default: settings, then official).")
def fetch(key: str, sha256: str, site: str) -> None:
    """Download, verify and unpack a model (resumes an interrupted download)."""
    settings = load_settings()
    spec = CATALOG[key]
    bar: list[ProgressBar[int]] = []  # created when the size is known

    def progress(done: int, total: int | None) -> None:
        if not bar:
            bar.append(click.progressbar(length=total or 0, label=f"Tải / Downloading {spec.dirname}"))
            bar[0].__enter__()
        bar[0].update(done - bar[0].pos)

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
    """List known models, which are installed, and which one is in use."""
    settings = load_settings()
    installed = {m.key: m for m in installed_models(settings.models_dir)}
    in_use = resolve_model_path(settings.nlu.vosk_model_path, settings.models_dir)
    for key, spec in CATALOG.items():
        model = installed.get(key)
        state = "installed" if model else "not installed"
        mark = " (in use)" if model and in_use == model.path else ""
        click.echo(f"{key}\t{spec.dirname}\t~{spec.approx_mb} MB\t{state}{mark}\t{spec.description}")
    if in_use and all(in_use != m.path for m in installed.values()):
        click.echo(f"configured\t{in_use}\t(in use)")
