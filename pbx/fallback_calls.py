"""Calls the app never saw: Asterisk's own journal of the fallback path, folded into the call log.

Asterisk appends one line for every call it answers, before the call reaches the app, so a call that
dies before anything else could note it (Asterisk stopped, the app and the database unreachable) still
has a record. When the call-control app is not registered (stopped, crashed, starting) or fails, the
dialplan sends the call straight to the operator queue, and Asterisk appends one line when the call
enters the fallback path and one when it hangs up (``extensions.conf``, ``FILE(...,al,u)``), to
``<asterisk log dir>/fallback-calls.log``::

    arrive|<epoch>|<uniqueid>|<caller id>|<called>|<recording>
    start|<epoch>|<uniqueid>|<caller id>|<called>|<STASISSTATUS>|<recording>
    end|<epoch>|<uniqueid>|<queue member that answered, or empty>|<QUEUESTATUS>

A record made from an ``arrive`` line alone stays open (the call's end is unknown); the app adopts it
when it drives the call (:meth:`ticketing.calls.CallLog.start`).

:func:`apply_events` turns those lines into call records through the :class:`CallRepository` port:
idempotent (a record that exists is completed, never duplicated), and a record the app already
closed is left as it is. :func:`import_journal` reads the new complete lines since the last import
(the offset is kept beside the data) and is what the scheduler and ``hotline calls list`` run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ticketing.calls import CallRecord, CallRepository, CallSource, Outcome

JOURNAL_NAME = "fallback-calls.log"


@dataclass(frozen=True)
class FallbackEvent:
    kind: str  # "arrive" | "start" | "end"
    at: datetime
    channel_id: str
    caller: str = ""
    called: str = ""
    status: str = ""  # STASISSTATUS at the start, QUEUESTATUS at the end
    recording: str = ""
    answered_by: str = ""  # the operator's interface when the queue connected the call


def parse_line(line: str) -> FallbackEvent | None:
    """One journal line as an event; ``None`` for a line that is not one (torn, foreign, empty)."""
    fields = line.rstrip("\r\n").split("|")
    try:
        at = datetime.fromtimestamp(int(fields[1]), UTC)
    except (IndexError, ValueError, OverflowError, OSError):
        return None
    channel_id = fields[2].strip() if len(fields) > 2 else ""
    if not channel_id:
        return None
    if fields[0] == "arrive" and len(fields) == 6:
        return FallbackEvent("arrive", at, channel_id, fields[3], fields[4], recording=fields[5])
    if fields[0] == "start" and len(fields) == 7:
        return FallbackEvent("start", at, channel_id, fields[3], fields[4], fields[5], fields[6])
    if fields[0] == "end" and len(fields) == 5:
        return FallbackEvent("end", at, channel_id, status=fields[4], answered_by=fields[3])
    return None


def apply_events(events: Iterable[FallbackEvent], repo: CallRepository, node: str = "") -> int:
    """Fold events into the call log; returns how many records were created or closed."""
    changed = 0
    for event in events:
        record = repo.by_channel(event.channel_id)
        if event.kind in ("arrive", "start"):
            if record is None:  # the app wrote none (yet, or ever): the call is on record all the same
                repo.add(
                    CallRecord(
                        channel_id=event.channel_id,
                        caller=event.caller,
                        called=event.called,
                        started_at=event.at,
                        answered_at=event.at,  # the dialplan answers before either line
                        recording=event.recording,
                        source=CallSource.DIALPLAN,
                        node=node,
                    )
                )
                changed += 1
            elif not record.recording and event.recording:
                repo.update(dataclasses.replace(record, recording=event.recording))
            continue
        if record is None or record.ended_at is not None:
            continue  # no start seen (journal cut), or the app closed it already
        outcome = record.outcome or (Outcome.TRANSFERRED if event.answered_by else Outcome.ABANDONED)
        repo.update(dataclasses.replace(record, ended_at=max(event.at, record.started_at), outcome=outcome))
        changed += 1
    return changed


def import_journal(journal: Path, offset_file: Path, repo: CallRepository, node: str = "") -> int:
    """Apply the complete lines added to ``journal`` since the last import; returns records changed.

    The offset is saved only after the records are written, so a failure (database down) means the
    same lines are read again next time; a journal shorter than the offset (rotated) is read anew.
    """
    try:
        size = journal.stat().st_size
    except FileNotFoundError:
        return 0
    try:
        offset = int(offset_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        offset = 0
    if offset > size:
        offset = 0
    if offset == size:
        return 0
    with open(journal, "rb") as handle:
        handle.seek(offset)
        data = handle.read(size - offset)
    complete = data[: data.rfind(b"\n") + 1]  # a line Asterisk is still writing waits for next time
    if not complete:
        return 0
    lines = complete.decode("utf-8", errors="replace").splitlines()
    events = [event for event in map(parse_line, lines) if event is not None]
    changed = apply_events(events, repo, node)
    offset_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = offset_file.with_suffix(".tmp")
    tmp.write_text(f"{offset + len(complete)}\n", encoding="ascii")
    tmp.replace(offset_file)
    return changed


def _save_offset(offset_file: Path, offset: int) -> None:
    offset_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = offset_file.with_suffix(".tmp")
    tmp.write_text(f"{offset}\n", encoding="ascii")
    tmp.replace(offset_file)


def rotate_journal(
    journal: Path, offset_file: Path, repo: CallRepository, max_bytes: int, backups: int, node: str = ""
) -> bool:
    """Rotate the journal once it is beyond ``max_bytes`` and every line of it has been imported.

    Asterisk opens the file for each line it appends, so renaming it is safe; a line appended between
    the last import and the rename is imported from the rotated file before the offset restarts at 0
    for the new one. True when rotated.
    """
    try:
        size = journal.stat().st_size
        offset = int(offset_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return False
    if size <= max_bytes or offset != size or backups < 1:
        return False
    for i in range(backups - 1, 0, -1):
        older = journal.with_name(f"{journal.name}.{i}")
        if older.exists():
            older.replace(journal.with_name(f"{journal.name}.{i + 1}"))
    rotated = journal.with_name(f"{journal.name}.1")
    journal.replace(rotated)
    import_journal(rotated, offset_file, repo, node=node)  # lines that arrived just before the rename
    _save_offset(offset_file, 0)
    return True
