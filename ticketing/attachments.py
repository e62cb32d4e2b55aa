"""Content-addressed attachment store on disk: recordings, photos, evidence.

A file lives at ``<root>/ab/cd/<sha256>``. Writes go to a temporary file in the same folder, are
fsynced and atomically renamed into place; an existing file is never overwritten (same hash, same
bytes). Reads verify the hash, so silent corruption is reported instead of served. Metadata rows
(filename, media type, who and when) are kept by the database (``attachments`` table).
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from config.private_files import private_dir
from ticketing.ports import StoredBlob

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class AttachmentError(RuntimeError):
    """A missing, unreadable or corrupted attachment."""


def guess_media_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


class FileAttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise AttachmentError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_bytes(self, data: bytes) -> StoredBlob:
        digest = hashlib.sha256(data).hexdigest()
        return self._store(digest, len(data), lambda out: out.write(data))

    def put_file(self, path: Path) -> StoredBlob:
        path = Path(path)
        digest = file_digest(path)

        def copy(out: BinaryIO) -> None:
            try:
                with path.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
            except OSError as exc:
                raise _unreadable(path, exc) from exc

        blob = self._store(digest.sha256, digest.size, copy)
        # The source might have changed between hashing and copying: the stored bytes must match.
        self.read_verified_size(blob.sha256)
        return blob

    def _store(self, digest: str, size: int, write: Callable[[BinaryIO], object]) -> StoredBlob:
        target = self.path_for(digest)
        if target.is_file():
            return StoredBlob(digest, size)
        private_dir(target.parent)  # recordings and evidence: owner-only folders
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o400)  # read-only, owner only
            actual = _hash_file(tmp)
            if actual != digest:
                raise AttachmentError(f"content changed while storing (expected {digest}, got {actual})")
            # os.link fails if the target exists: never overwrite, even under a race.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(target.parent)
        return StoredBlob(digest, size)

    def read(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise AttachmentError(f"attachment {sha256} is missing from {self.root}") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise AttachmentError(f"attachment {sha256} is corrupted (hash mismatch)")
        return data

    def read_verified_size(self, sha256: str) -> int:
        path = self.path_for(sha256)
        if not path.is_file():
            raise AttachmentError(f"attachment {sha256} is missing from {self.root}")
        if _hash_file(path) != sha256:
            raise AttachmentError(f"attachment {sha256} is corrupted (hash mismatch)")
        return path.stat().st_size


def file_digest(path: Path) -> StoredBlob:
    """SHA-256 and size of a file to attach, without storing it (a refused step must leave no blob).

    A missing, unreadable or special file is an :class:`AttachmentError` with a one-line message.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise AttachmentError(f"Không tìm thấy tệp {path} / file not found: {path}")
        h = hashlib.sha256()
        size = 0
        with path.open("rb") as src:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    return StoredBlob(h.hexdigest(), size)


def _unreadable(path: Path, exc: OSError) -> AttachmentError:
    reason = exc.strerror or type(exc).__name__
    return AttachmentError(f"Không đọc được tệp {path} / cannot read {path}: {reason}")


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
