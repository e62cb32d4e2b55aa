"""A local journal of tickets that could not be written to the database (SPEC §5: no report is lost).

When the database is down during a call, the ticket's creation data (and the host path of the call
recording, once known) is appended to ``<data_dir>/journal/tickets.jsonl``: one JSON object per line,
flushed and fsynced before the call goes on. The file is append-only; replaying it appends a
``replayed`` line naming the tracking code the database gave, so a replay interrupted half-way is
simply run again and nothing is filed twice. ``hotline journal replay`` and the call app (at start
and every minute) replay it.

Messages a call queues outside a ticket (the SMS of a procedure's guidance) get the same treatment in
``<data_dir>/journal/messages.jsonl`` (:class:`MessageJournal`); their dedupe keys make a replay
interrupted between queueing and marking harmless.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

JOURNAL_NAME = "tickets.jsonl"
MESSAGES_NAME = "messages.jsonl"


def journal_path(data_dir: Path) -> Path:
    return data_dir / "journal" / JOURNAL_NAME


def messages_path(data_dir: Path) -> Path:
    return data_dir / "journal" / MESSAGES_NAME


@dataclass(frozen=True)
class JournalEntry:
    """A ticket waiting for the database."""

    id: str
    data: dict[str, Any]
    at: str
    recordings: tuple[str, ...] = ()  # host paths of recordings to attach once filed


@dataclass
class ReplayReport:
    filed: list[tuple[str, str]] = field(default_factory=list)  # (entry id, tracking code)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (entry id, error)


TicketWriter = Callable[[JournalEntry], str]
"""Files one entry (ticket + recordings) in the database and returns its tracking code."""


class _JsonLines:
    """An append-only JSON-lines file, safe for several processes (``flock`` around every access)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _locked(self, mode: str) -> Iterator[IO[str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)  # personal data inside
            with os.fdopen(fd, mode, encoding="utf-8") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    try:
                        current = os.stat(self.path).st_ino
                    except FileNotFoundError:
                        current = -1
                    if current != os.fstat(fh.fileno()).st_ino:
                        continue  # rotated while we waited for the lock: open the new file
                    yield fh
                    return
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def _settled(self, fh: IO[str]) -> bool:
        """Nothing in the file waits for the database (subclasses say what waiting means)."""
        raise NotImplementedError

    def rotate(self, max_bytes: int, backups: int) -> bool:
        """Move the file to ``.1`` (older ones shifted) once it is beyond ``max_bytes`` AND nothing in it
        waits for the database; writers waiting for the lock then open the new file. True if rotated."""
        try:
            if self.path.stat().st_size <= max_bytes or backups < 1:
                return False
        except FileNotFoundError:
            return False
        with self._locked("a+") as fh:
            if not self._settled(fh):
                return False
            for i in range(backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{i}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        return True

    @staticmethod
    def _write(fh: IO[str], record: dict[str, Any]) -> None:
        fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())

    def _records(self, fh: IO[str]) -> Iterator[dict[str, Any]]:
        fh.seek(0)
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError:
                log.warning("journal %s line %d is not JSON (torn write?); skipped", self.path, number)


class TicketJournal(_JsonLines):
    """Tickets waiting for the database."""

    def append(self, data: dict[str, Any], recordings: tuple[str, ...] = ()) -> str:
        """Journal a ticket's creation data; returns the entry id (``J-`` + 12 hex digits)."""
        entry_id = f"J-{uuid.uuid4().hex[:12]}"
        record = {
            "op": "create",
            "id": entry_id,
            "at": datetime.now(UTC).isoformat(),
            "data": data,
            "recordings": list(recordings),
        }
        with self._locked("a+") as fh:
            self._write(fh, record)
        log.error("database unavailable: ticket journaled as %s in %s", entry_id, self.path)
        return entry_id

    def add_recording(self, entry_id: str, recording: str) -> None:
        """The call ended after the entry was written: attach its recording on replay too."""
        with self._locked("a+") as fh:
            self._write(fh, {"op": "recording", "id": entry_id, "recording": recording})

    def _read(self, fh: IO[str]) -> tuple[dict[str, JournalEntry], dict[str, str]]:
        entries: dict[str, JournalEntry] = {}
        done: dict[str, str] = {}
        for record in self._records(fh):
            op, entry_id = record.get("op"), str(record.get("id", ""))
            if op == "create":
                entries[entry_id] = JournalEntry(
                    entry_id, dict(record["data"]), str(record["at"]), tuple(record.get("recordings", ()))
                )
            elif op == "recording" and entry_id in entries:
                old = entries[entry_id]
                entries[entry_id] = JournalEntry(
                    old.id, old.data, old.at, (*old.recordings, str(record["recording"]))
                )
            elif op == "replayed":
                done[entry_id] = str(record.get("code", ""))
        return entries, done

    def _settled(self, fh: IO[str]) -> bool:
        entries, done = self._read(fh)
        return all(e in done for e in entries)

    def pending(self) -> list[JournalEntry]:
        if not self.path.is_file():
            return []
        with self._locked("a+") as fh:
            entries, done = self._read(fh)
        return [e for e in entries.values() if e.id not in done]

    def replayed_code(self, entry_id: str) -> str:
        """The tracking code an entry got on replay, or ""."""
        if not self.path.is_file():
            return ""
        with self._locked("a+") as fh:
            return self._read(fh)[1].get(entry_id, "")

    def replay(self, write: TicketWriter) -> ReplayReport:
        """File every pending entry with ``write``; stops at the first failure (database still down)."""
        report = ReplayReport()
        if not self.path.is_file():
            return report
        with self._locked("a+") as fh:  # one replayer at a time: an entry is never filed twice
            entries, done = self._read(fh)
            for entry in entries.values():
                if entry.id in done:
                    continue
                try:
                    code = write(entry)
                except Exception as exc:
                    report.failed.append((entry.id, str(exc)))
                    log.warning("journal replay of %s failed: %s", entry.id, exc)
                    break
                self._write(fh, {"op": "replayed", "id": entry.id, "code": code})
                report.filed.append((entry.id, code))
                log.info("journal entry %s filed as ticket %s", entry.id, code)
        return report


class MessageJournal(_JsonLines):
    """Outbox messages (as plain dicts of their fields) waiting for the database."""

    def append(self, message: dict[str, Any]) -> str:
        entry_id = f"M-{uuid.uuid4().hex[:12]}"
        record = {"op": "message", "id": entry_id, "at": datetime.now(UTC).isoformat(), "message": message}
        with self._locked("a+") as fh:
            self._write(fh, record)
        log.error("database unavailable: message journaled as %s in %s", entry_id, self.path)
        return entry_id

    def _pending(self, fh: IO[str]) -> list[tuple[str, dict[str, Any]]]:
        waiting: dict[str, dict[str, Any]] = {}
        for record in self._records(fh):
            if record.get("op") == "message":
                waiting[str(record["id"])] = dict(record["message"])
            elif record.get("op") == "queued":
                waiting.pop(str(record.get("id", "")), None)
        return list(waiting.items())

    def _settled(self, fh: IO[str]) -> bool:
        return not self._pending(fh)

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        """(entry id, message fields) of every message not yet in the outbox."""
        if not self.path.is_file():
            return []
        with self._locked("a+") as fh:
            return self._pending(fh)

    def replay(self, enqueue: Callable[[dict[str, Any]], object]) -> ReplayReport:
        """Queue every pending message with ``enqueue``; stops at the first failure."""
        report = ReplayReport()
        if not self.path.is_file():
            return report
        with self._locked("a+") as fh:
            for entry_id, message in self._pending(fh):
                try:
                    enqueue(message)
                except Exception as exc:
                    report.failed.append((entry_id, str(exc)))
                    log.warning("journal replay of message %s failed: %s", entry_id, exc)
                    break
                self._write(fh, {"op": "queued", "id": entry_id})
                report.filed.append((entry_id, "outbox"))
        return report
