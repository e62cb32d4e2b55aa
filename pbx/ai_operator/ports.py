"""The live call's ports to the ticketing side: dossier and report lookups, filing, recordings.

All methods are blocking (database, HTTP); the call handler runs them in worker threads. When the
database is down, filing does not fail the report: the ticket goes to the local journal
(:mod:`ticketing.journal`) and is replayed later, and the caller reaches an operator.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from ticketing.domain.errors import ValidationError
from ticketing.domain.model import AttachmentKind
from ticketing.dossiers import DossierLookupError, DossierSource
from ticketing.errors import StorageError
from ticketing.journal import JournalEntry, MessageJournal, TicketJournal
from ticketing.notifications.outbox import NewMessage, OutboxRepository
from ticketing.notify import procedure_answer_sms
from ticketing.ports import Clock, SystemClock
from ticketing.service import NewAttachment, TicketNotFound

log = logging.getLogger(__name__)

ACTOR = "ai-operator"
DATABASE_ERRORS: tuple[type[BaseException], ...] = (StorageError, OSError)


class TicketServicePort(Protocol):
    """What the call needs of :class:`ticketing.service.TicketService`."""

    def create(self, data: Any, actor: str, attachments: Any = ()) -> Any: ...
    def get(self, code: str) -> Any: ...
    def attach_bytes(
        self, code: str, data: bytes, filename: str, kind: Any, actor: str, media_type: str = ""
    ) -> Any: ...


def is_journal_id(code: str) -> bool:
    return code.startswith("J-")


@dataclass
class LivePorts:
    """Implements :class:`nlu.dialogue.runner.CallPorts` for live calls, plus recording attachment."""

    service: TicketServicePort
    dossiers: DossierSource
    journal: TicketJournal
    filed: list[tuple[str, bool]] = field(default_factory=list)  # (code or journal id, complete)
    on_filed: Callable[[str], None] | None = None  # told of every code or journal id filed
    outbox: OutboxRepository | None = None  # where a procedure SMS the caller asked for is queued
    messages: MessageJournal | None = None  # where it waits when the database is down
    clock: Clock = field(default_factory=SystemClock)

    # ---- notifications -------------------------------------------------------------------------
    def send_procedure_sms(self, sms: act.SendProcedureSms) -> bool:
        """Queue the guidance SMS in the outbox (sent, and retried, by the scheduler); journal it
        when the database is down. False when there is nowhere to queue it."""
        if self.outbox is None:
            return False
        message = procedure_answer_sms(sms.phone, sms.title, sms.summary, key=uuid.uuid4().hex)
        try:
            self.outbox.enqueue(message, self.clock.now())
        except DATABASE_ERRORS:
            if self.messages is None:
                raise
            log.exception("database unavailable while queueing the procedure SMS")
            self.messages.append(asdict(message))
        return True

    # ---- lookups -------------------------------------------------------------------------------
    def lookup_dossier(self, code: str) -> ev.DossierResult:
        try:
            found = self.dossiers.lookup(code)
        except DossierLookupError:
            log.exception("dossier lookup of %s failed", code)
            raise
        if found is None:
            return ev.DossierResult(code, False)
        return ev.DossierResult(found.code, True, found.status, found.procedure, found.due_date)

    def lookup_ticket(self, code: str) -> ev.TicketStatus:
        try:
            t = self.service.get(code)
        except TicketNotFound:
            return ev.TicketStatus(code, False)
        status = str(t.status)
        due = t.due_at or t.dispatch_due
        if due is not None and not t.result:
            status += f", hạn xử lý {due:%H giờ %M ngày %d tháng %m năm %Y}"
        return ev.TicketStatus(t.code, True, status, t.lead_agency, t.result)

    # ---- filing --------------------------------------------------------------------------------
    def create_ticket(self, draft: Draft, complete: bool) -> str:
        """File the draft: its tracking code; a journal id (``J-...``) when the database is down."""
        data = draft.ticket_data(complete=complete)
        try:
            created = self.service.create(data, ACTOR)
        except ValidationError:
            log.exception("the ticket service refused the call's report")
            data = draft.ticket_data(complete=False)  # keep it for a call-back rather than lose it
            try:
                created = self.service.create(data, ACTOR)
            except ValidationError:
                log.exception("the call's report was refused even as a draft; journaled")
                return self._journal(data, complete)
            except DATABASE_ERRORS:
                return self._journal(data, complete)
        except DATABASE_ERRORS:
            log.exception("database unavailable while filing the call's report")
            return self._journal(data, complete)
        code = str(created.ticket.code)
        self._filed(code, complete)
        return code

    def _journal(self, data: dict[str, Any], complete: bool) -> str:
        entry_id = self.journal.append(data)
        self._filed(entry_id, complete)
        return entry_id

    def _filed(self, code: str, complete: bool) -> None:
        self.filed.append((code, complete))
        if self.on_filed is not None:
            try:
                self.on_filed(code)
            except Exception:
                log.exception("could not note the pending recording of %s", code)

    def attach_recording(self, code: str, path: Path) -> None:
        """Attach the call recording (a host path) to a ticket, or to its journal entry."""
        if is_journal_id(code):
            self.journal.add_recording(code, str(path))
            return
        self.service.attach_bytes(
            code, path.read_bytes(), path.name, "recording", ACTOR, media_type="audio/wav"
        )


def journal_writer(service: TicketServicePort) -> Callable[[JournalEntry], str]:
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
        return str(service.create(entry.data, ACTOR, files).ticket.code)

    return write


def message_enqueuer(outbox: OutboxRepository, clock: Clock) -> Callable[[dict[str, Any]], object]:
    """Queues a journaled message (its dedupe key makes a second replay of it a no-op)."""

    def enqueue(message: dict[str, Any]) -> object:
        return outbox.enqueue(NewMessage(**message), clock.now())

    return enqueue
