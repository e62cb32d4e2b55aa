"""Recording attachments waiting for their call to end, kept on disk so an app restart finishes them.

A ticket filed during a call gets the call's recording once the caller's channel is gone (see
:mod:`.recordings`). Between the two, the app may be stopped or killed; so each filing is written to
``<data_dir>/journal/recordings.jsonl`` (JSON lines, ``flock`` + ``fsync``, mode 0600: the same
append-only scheme as :mod:`ticketing.journal`) and marked done once attached. At start the app
resumes every entry not done.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

PENDING_NAME = "recordings.jsonl"


def pending_path(data_dir: Path) -> Path:
    return data_dir / "journal" / PENDING_NAME


@dataclass(frozen=True)
class PendingRecording:
    channel_id: str
    recording: str  # as Asterisk sees it
    code: str  # ticket code or journal id


class PendingRecordings:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _locked(self) -> Iterator[IO[str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write(self, record: dict[str, Any]) -> None:
        with self._locked() as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def add(self, item: PendingRecording) -> None:
        self._write({"op": "pending", **item.__dict__})

    def done(self, item: PendingRecording, outcome: str = "attached") -> None:
        self._write({"op": "done", "outcome": outcome, **item.__dict__})

    def pending(self) -> list[PendingRecording]:
        if not self.path.is_file():
            return []
        out: dict[PendingRecording, None] = {}
        with self._locked() as fh:
            fh.seek(0)
            for line in fh:
                try:
                    record = json.loads(line)
                    item = PendingRecording(record["channel_id"], record["recording"], record["code"])
                except (ValueError, KeyError, TypeError):
                    log.warning("unreadable line in %s skipped", self.path)
                    continue
                if record.get("op") == "pending":
                    out[item] = None
                else:
                    out.pop(item, None)
        return list(out)
