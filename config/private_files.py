"""Files and folders that hold personal data or secrets: owner-only permissions (0600 / 0700).

The database, attachments (recordings, evidence), outbox files, the journal, logs and secrets all
live under the data directory. The CLI sets a process umask of 077 (:data:`PRIVATE_UMASK`) so that
everything it and its child processes create is owner-only; the helpers here make the same promise
explicitly where a file is created, so that library use outside the CLI is covered too, and tighten
files an older version created with wider modes.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO, Literal

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; an existing folder is left as it is.

    Existing folders are not tightened: ``path`` may be a shared place such as ``/tmp``.
    """
    path = Path(path)
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
        # mkdir's mode is filtered by the umask; make it exactly 0700.
        os.chmod(folder, DIR_MODE)
    return path


def tighten(path: Path, mode: int = FILE_MODE) -> None:
    """Remove group/other permission bits from an existing file we own (no-op if it is missing)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & mode)


def create_private(path: Path) -> None:
    """Create an empty 0600 file if it does not exist yet; tighten an existing one."""
    path = Path(path)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    tighten(path)


def open_private_text(path: Path, mode: Literal["a", "w"] = "a") -> IO[str]:
    """Open a UTF-8 text file for appending/writing, creating it with mode 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    tighten(Path(path))
    return os.fdopen(fd, mode, encoding="utf-8")


def open_private_binary(path: Path, mode: Literal["ab", "wb"] = "ab") -> IO[bytes]:
    """Open a binary file for appending/writing, creating it with mode 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "ab" else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    tighten(Path(path))
    return os.fdopen(fd, mode)


def set_private_umask() -> int:
    """Make everything this process (and its children) creates owner-only; returns the old umask."""
    return os.umask(PRIVATE_UMASK)
