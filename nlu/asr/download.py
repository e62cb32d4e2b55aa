"""Download a model archive with a progress callback, resume, sha256 verification and atomic unpack.

The archive is downloaded to ``<models>/.cache/<name>.zip.part`` and resumed with an HTTP Range
request; once complete it is renamed to ``.zip`` and its sha256 compared with the expected one. The zip
is unpacked into a temporary folder beside the target and renamed into place, so a model folder is
either complete or absent. A verified archive stays cached, so re-running is free.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


class DownloadError(RuntimeError):
    """The model could not be fetched, verified or unpacked; the message is one line."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: Path, progress: Progress | None = None, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` if present. Returns ``dest``."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as resp:
            if resp.status_code == 416:  # the part file is already complete
                part.rename(dest)
                return dest
            if resp.status_code not in (200, 206):
                raise DownloadError(f"HTTP {resp.status_code} khi tải / while fetching {url}")
            if resp.status_code == 200 and have:
                have = 0  # the server ignored Range: start again
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            with part.open("ab" if have else "wb") as f:
                done = have
                if progress:
                    progress(done, total)
                for chunk in resp.iter_bytes():
                    f.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"không tải được / download failed ({exc.__class__.__name__}: {exc}); re-run to resume"
        ) from exc
    if total is not None and part.stat().st_size != total:
        raise DownloadError(f"tải chưa đủ / incomplete download of {url}; re-run to resume")
    part.rename(dest)
    return dest


def verify(archive: Path, expected_sha256: str) -> str:
    """Return the archive's sha256; raise when an expected one is given and differs."""
    actual = sha256_file(archive)
    if expected_sha256 and actual != expected_sha256.lower():
        bad = archive.with_name(archive.name + ".bad")
        archive.replace(bad)
        raise DownloadError(
            f"sai mã kiểm tra / sha256 mismatch for {archive.name}: expected {expected_sha256}, got {actual}"
        )
    return actual


def unpack(archive: Path, target: Path, top_dir: str) -> Path:
    """Unpack ``top_dir`` of the zip into ``target`` atomically (temp folder + rename)."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            root = tmp.resolve()
            for member in zf.infolist():
                out = (tmp / member.filename).resolve()
                if not out.is_relative_to(root):  # refuse "../" entries (zip slip)
                    raise DownloadError(f"tệp nén không an toàn / unsafe path in archive: {member.filename}")
            zf.extractall(tmp)
        src = tmp / top_dir
        if not src.is_dir():
            raise DownloadError(f"tệp nén thiếu thư mục / archive has no folder {top_dir!r}")
        src.rename(target)
        return target
    except zipfile.BadZipFile as exc:
        raise DownloadError(f"tệp nén hỏng / corrupt archive {archive.name}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
