"""The live call's ports to the ticketing side: dossier and report lookups, filing, recordings.

All methods are blocking (database, HTTP); the call handler runs them in worker threads. Filing goes
through the one resilient filing path (:class:`ticketing.filing.ReportFiler`): when the database is
down the report goes to the local journal and is replayed later, and the caller reaches an operator.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from ticketing.dossiers import DossierLookupError, DossierSource
from ticketing.filing import STORAGE_ERRORS, ReportFiler, TicketServicePort, is_journal_id
from ticketing.intake import bounded
from ticketing.journal import MessageJournal, TicketJournal
from ticketing.notifications.outbox import OutboxRepository
from ticketing.notify import procedure_answer_sms
from ticketing.ports import Clock, SystemClock
from ticketing.service import TicketNotFound

log = logging.getLogger(__name__)

ACTOR = "ai-operator"
DATABASE_ERRORS = STORAGE_ERRORS
__all__ = ["ACTOR", "LivePorts", "TicketServicePort", "is_journal_id"]


@dataclass
class LivePorts:
    """Implements :class:`nlu.dialogue.runner.CallPorts` for live calls, plus recording attachment."""

    filer: ReportFiler
    dossiers: DossierSource
    filed: list[tuple[str, bool]] = field(default_factory=list)  # (code or journal id, complete)
    on_filed: Callable[[str], None] | None = None  # told of every code or journal id filed
    outbox: OutboxRepository | None = None  # where a procedure SMS the caller asked for is queued
    messages: MessageJournal | None = None  # where it waits when the database is down
    clock: Clock = field(default_factory=SystemClock)

    @property
    def service(self) -> TicketServicePort:
        return self.filer.tickets

    @property
    def journal(self) -> TicketJournal:
        return self.filer.journal

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
        filed = self.filer.file(bounded(draft.ticket_data(complete=complete)), ACTOR)
        self._filed(filed.code, complete)
        return filed.code

    def _filed(self, code: str, complete: bool) -> None:
        self.filed.append((code, complete))
        if self.on_filed is not None:
            try:
                self.on_filed(code)
            except Exception:
                log.exception("could not note the pending recording of %s", code)

    def attach_recording(self, code: str, path: Path) -> None:
        """Attach the call recording (a host path) to a ticket, or to its journal entry."""
        self.filer.attach_recording(code, path, ACTOR)
