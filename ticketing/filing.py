"""The one resilient filing path of new reports, for every channel (calls, console, replay, web).

:meth:`ReportFiler.file` files a :class:`ticketing.intake.NewReport`: as a ticket; if the ticket
service refuses it as complete (an unknown category or ward from a call), as a draft kept for a
call-back; if the database is down (or refuses even the draft), into the local journal
(:mod:`ticketing.journal`), from which :meth:`ReportFiler.replay` files it later with its
recordings. Nothing a caller said is lost. Journaled messages reach the outbox the same way
(:func:`message_enqueuer`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from ticketing.domain.errors import ValidationError
from ticketing.domain.model import AttachmentKind
from ticketing.errors import StorageError
from ticketing.intake import NewReport, parse_report
from ticketing.journal import JournalEntry, ReplayReport, TicketJournal
from ticketing.notifications.outbox import NewMessage, OutboxRepository
from ticketing.ports import Clock
from ticketing.service import NewAttachment

log = logging.getLogger(__name__)

STORAGE_ERRORS: tuple[type[BaseException], ...] = (StorageError, OSError)
"""What "the database is down" looks like to a caller of the ticket service."""


class TicketServicePort(Protocol):
    """What filing (and a call) needs of :class:`ticketing.service.TicketService`."""

    def create(self, data: Any, actor: str, attachments: Any = ()) -> Any: ...
    def get(self, code: str) -> Any: ...
    def attach_bytes(
        self, code: str, data: bytes, filename: str, kind: Any, actor: str, media_type: str = ""
    ) -> Any: ...


@dataclass(frozen=True)
class Filed:
    code: str  # the tracking code, or the journal id ("J-...") when journaled
    outcome: Literal["ticket", "draft", "journal"]

    @property
    def journaled(self) -> bool:
        return self.outcome == "journal"


def is_journal_id(code: str) -> bool:
    return code.startswith("J-")


class ReportFiler:
    """File; else keep as a draft; else journal for replay."""

    def __init__(self, tickets: TicketServicePort, journal: TicketJournal) -> None:
        self.tickets = tickets
        self.journal = journal

    def file(
        self,
        report: NewReport | Mapping[str, Any],
        actor: str,
        attachments: Sequence[NewAttachment] = (),
    ) -> Filed:
        """File the report (parsed first: a malformed one raises ValidationError, nothing filed)."""
        parsed = parse_report(report)
        data = parsed.as_data()
        try:
            created = self.tickets.create(data, actor, attachments)
        except ValidationError:
            if not parsed.complete:
                log.exception("the ticket service refused a draft; journaled")
                return self._journal(data)
            log.exception("the ticket service refused the report as complete; kept as a draft")
            data = {**data, "complete": False}  # kept for a call-back rather than lost
            try:
                created = self.tickets.create(data, actor, attachments)
            except ValidationError:
                log.exception("the report was refused even as a draft; journaled")
                return self._journal(data)
            except STORAGE_ERRORS:
                log.exception("database unavailable while filing the draft; journaled")
                return self._journal(data)
            return Filed(str(created.ticket.code), "draft")
        except STORAGE_ERRORS:
            log.exception("database unavailable while filing the report; journaled")
            return self._journal(data)
        return Filed(str(created.ticket.code), "ticket" if parsed.complete else "draft")

    def _journal(self, data: dict[str, Any]) -> Filed:
        return Filed(self.journal.append(data), "journal")

    def attach_recording(self, code: str, path: Path, actor: str) -> None:
        """Attach a call recording (a host path) to a ticket, or to its journal entry."""
        if is_journal_id(code):
            self.journal.add_recording(code, str(path))
            return
        data = path.read_bytes()
        self.tickets.attach_bytes(code, data, path.name, "recording", actor, media_type="audio/wav")

    def replay(self, actor: str) -> ReplayReport:
        """File every journaled report (with its recordings) that the database now takes."""
        return self.journal.replay(journal_writer(self.tickets, actor))


def journal_writer(service: TicketServicePort, actor: str) -> Callable[[JournalEntry], str]:
    """Files a journal entry through the ticket service, recordings included (for replay)."""

    def write(entry: JournalEntry) -> str:
        files = []
        for recording in entry.recordings:
            path = Path(recording)
            if path.is_file():
                files.append(
                    NewAttachment(
                        path.name, AttachmentKind.RECORDING, data=path.read_bytes(), media_type="audio/wav"
                    )
                )
            else:
                log.error("recording %s of journal entry %s is gone", recording, entry.id)
        # one transaction: the ticket and its recordings are filed together or not at all
        return str(service.create(parse_report(entry.data).as_data(), actor, files).ticket.code)

    return write


def message_enqueuer(outbox: OutboxRepository, clock: Clock) -> Callable[[dict[str, Any]], object]:
    """Queues a journaled message (its dedupe key makes a second replay of it a no-op)."""

    def enqueue(message: dict[str, Any]) -> object:
        return outbox.enqueue(NewMessage(**message), clock.now())

    return enqueue
