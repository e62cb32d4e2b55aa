"""The call log: one record per call that reached the hotline, whatever its outcome.

:class:`CallLog` is the service the PBX side uses; it talks to storage through the
:class:`CallRepository` port, so ``pbx`` never imports SQLAlchemy. The SQLAlchemy adapter is
:class:`ticketing.db.calls.SqlCallRepository`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Protocol


class Outcome(StrEnum):
    AI_HANDLED = "ai_handled"  # the AI operator finished the call itself
    TRANSFERRED = "transferred"  # handed to the operator queue
    ABANDONED = "abandoned"  # the caller hung up before the call was handled
    FAILED = "failed"  # a fault on our side ended the call


class CallSource(StrEnum):
    APP = "app"  # the ARI app drove the call (or was meant to: it wrote the record at StasisStart)
    DIALPLAN = "dialplan"  # imported from the fallback journal of the dialplan (the app never saw it)


@dataclass(frozen=True)
class CallRecord:
    channel_id: str
    caller: str
    called: str
    started_at: datetime
    id: int | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: Outcome | None = None
    recording: str = ""  # path as Asterisk wrote it (inside its root when it runs in a chroot)
    ticket_code: str = ""
    draft_id: str = ""
    source: CallSource = CallSource.APP
    node: str = ""  # the PBX node that took the call (its Asterisk instance); "" before clusters

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class CallRepository(Protocol):
    def add(self, record: CallRecord) -> CallRecord: ...

    def update(self, record: CallRecord) -> None: ...

    def get(self, call_id: int) -> CallRecord | None: ...

    def by_channel(self, channel_id: str) -> CallRecord | None: ...

    def list_recent(self, limit: int) -> list[CallRecord]: ...

    def list_open(self, source: CallSource, limit: int) -> list[CallRecord]: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CallLog:
    """Start, annotate and finish call records. Every method is synchronous and short."""

    def __init__(self, repo: CallRepository, clock: Callable[[], datetime] = _utcnow, node: str = "") -> None:
        self._repo = repo
        self._clock = clock
        self.node = node  # written on every record this log starts

    def start(self, channel_id: str, caller: str, called: str, recording: str = "") -> CallRecord:
        """The app's record of a call it drives. A record the journal import already made from the
        dialplan's ``arrive`` line (:mod:`pbx.fallback_calls`) is adopted, not duplicated."""
        existing = self._repo.by_channel(channel_id)
        if existing is None:
            try:
                return self._repo.add(
                    CallRecord(
                        channel_id=channel_id,
                        caller=caller,
                        called=called,
                        started_at=self._clock(),
                        recording=recording,
                        node=self.node,
                    )
                )
            except Exception:
                existing = self._repo.by_channel(channel_id)  # the import wrote it at the same moment
                if existing is None:
                    raise
        if existing.source is CallSource.DIALPLAN and existing.ended_at is None and existing.outcome is None:
            adopted = dataclasses.replace(
                existing, source=CallSource.APP, recording=existing.recording or recording
            )
            self._repo.update(adopted)
            return adopted
        return existing

    def _change(self, channel_id: str, **changes: object) -> CallRecord:
        record = self._repo.by_channel(channel_id)
        if record is None:
            raise KeyError(f"no call record for channel {channel_id}")
        new = dataclasses.replace(record, **changes)  # type: ignore[arg-type]
        self._repo.update(new)
        return new

    def answered(self, channel_id: str) -> CallRecord:
        return self._change(channel_id, answered_at=self._clock())

    def set_recording(self, channel_id: str, recording: str) -> CallRecord:
        return self._change(channel_id, recording=recording)

    def set_draft(self, channel_id: str, draft_id: str) -> CallRecord:
        return self._change(channel_id, draft_id=draft_id)

    def set_ticket(self, channel_id: str, ticket_code: str) -> CallRecord:
        return self._change(channel_id, ticket_code=ticket_code)

    def finish(self, channel_id: str, outcome: Outcome, ended_at: datetime | None = None) -> CallRecord:
        """Close the record (now, or at ``ended_at`` when that is known better, never before the start);
        the first outcome wins (a transfer followed by the caller's hangup stays a transfer)."""
        record = self._repo.by_channel(channel_id)
        if record is None:
            raise KeyError(f"no call record for channel {channel_id}")
        if record.ended_at is not None:
            return record
        end = max(ended_at or self._clock(), record.started_at)
        return self._change(channel_id, ended_at=end, outcome=record.outcome or outcome)

    def open_calls(self, limit: int = 1000) -> list[CallRecord]:
        """Records the app wrote that are not closed yet, oldest first."""
        return self._repo.list_open(CallSource.APP, limit)

    def mark_outcome(self, channel_id: str, outcome: Outcome) -> CallRecord:
        """Set the outcome now (e.g. at the transfer) without closing the record."""
        return self._change(channel_id, outcome=outcome)

    def recent(self, limit: int = 50) -> list[CallRecord]:
        return self._repo.list_recent(limit)

    def get(self, call_id: int) -> CallRecord | None:
        return self._repo.get(call_id)


def host_recording_path(recording: str, asterisk_root: str) -> str:
    """Translate a path Asterisk wrote inside its chroot to the path on the host.

    An empty root (a system Asterisk) leaves the path as it is.
    """
    if not recording or not asterisk_root:
        return recording
    inner = PurePosixPath(recording)
    if not inner.is_absolute():
        return recording
    return str(PurePosixPath(asterisk_root) / inner.relative_to("/"))


class AsyncCallLog:
    """:class:`CallLog` for asyncio code: each call runs in a worker thread, off the event loop."""

    def __init__(self, log: CallLog) -> None:
        self._log = log

    async def start(self, channel_id: str, caller: str, called: str, recording: str = "") -> CallRecord:
        return await asyncio.to_thread(self._log.start, channel_id, caller, called, recording)

    async def answered(self, channel_id: str) -> CallRecord:
        return await asyncio.to_thread(self._log.answered, channel_id)

    async def set_draft(self, channel_id: str, draft_id: str) -> CallRecord:
        return await asyncio.to_thread(self._log.set_draft, channel_id, draft_id)

    async def mark_outcome(self, channel_id: str, outcome: Outcome) -> CallRecord:
        return await asyncio.to_thread(self._log.mark_outcome, channel_id, outcome)

    async def finish(self, channel_id: str, outcome: Outcome, ended_at: datetime | None = None) -> CallRecord:
        return await asyncio.to_thread(self._log.finish, channel_id, outcome, ended_at)

    async def open_calls(self, limit: int = 1000) -> list[CallRecord]:
        return await asyncio.to_thread(self._log.open_calls, limit)
