"""Which speech models are installed, fetching one, and which one the hotline uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nlu.asr.catalog import CATALOG, VOSK_MODEL_SITE, ModelSpec
from nlu.asr.download import DownloadError, Progress, download, unpack, verify


@dataclass(frozen=True)
class InstalledModel:
    key: str
    path: Path
    sha256: str


def spec_for(key: str) -> ModelSpec:
    try:
        return CATALOG[key]
    except KeyError:
        raise DownloadError(
            f"không có mô hình {key!r} / unknown model {key!r}; known: {', '.join(CATALOG)}"
        ) from None


def fetch_model(
    key: str,
    models_dir: Path,
    *,
    site: str = "",
    sha256: str = "",
    progress: Progress | None = None,
) -> InstalledModel:
    """Download, verify and unpack model ``key`` into ``models_dir``; idempotent."""
    spec = spec_for(key)
    target = models_dir / spec.dirname
    stamp = models_dir / f"{spec.dirname}.sha256"
    if target.is_dir() and stamp.is_file():
        return InstalledModel(key, target, stamp.read_text().strip())
    expected = sha256 or spec.sha256
    url = spec.url if not site else f"{site.rstrip('/')}/{spec.url.removeprefix(VOSK_MODEL_SITE + '/')}"
    models_dir.mkdir(parents=True, exist_ok=True)
    archive = download(url, models_dir / ".cache" / f"{spec.dirname}.zip", progress)
    actual = verify(archive, expected)
    if not expected:
        raise DownloadError(
            f"nhà cung cấp không công bố mã kiểm tra / the publisher gives no checksum for {spec.dirname}; "
            f"the downloaded archive has sha256 {actual}: check it, then re-run with --sha256 {actual}"
        )
    unpack(archive, target, spec.dirname)
    stamp.write_text(actual + "\n")
    return InstalledModel(key, target, actual)


def installed_models(models_dir: Path) -> list[InstalledModel]:
    found = []
    for spec in CATALOG.values():
        target = models_dir / spec.dirname
        stamp = models_dir / f"{spec.dirname}.sha256"
        if target.is_dir() and stamp.is_file():
            found.append(InstalledModel(spec.key, target, stamp.read_text().strip()))
    return found


def resolve_model_path(configured: str, models_dir: Path) -> Path | None:
    """The configured model path, else the first installed catalog model (small first), else None."""
    if configured:
        return Path(configured)
    models = installed_models(models_dir)
    return models[0].path if models else None
