"""A synchronous runner for the engine: performs lookups and ticket filing through ports and feeds the
answers back, so a caller of :meth:`Runner.send` only sees Say/Listen/Transfer/Hangup and friends.

Used by the text console (``hotline chat``) and by tests; the live call has its own asyncio loop but
follows the same rules: a failing lookup becomes a ``Timeout`` event, a failing ticket creation a
``TicketCreated("")`` (the engine then hands the caller to an operator with the draft).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.engine import DialogueEngine

log = logging.getLogger(__name__)


class CallPorts(Protocol):
    def lookup_dossier(self, code: str) -> ev.DossierResult: ...

    def lookup_ticket(self, code: str) -> ev.TicketStatus: ...

    def create_ticket(self, draft: Draft, complete: bool) -> str | None:
        """File the draft; return the tracking code, "" on failure, or None for a dry run (not filed)."""
        ...

    def send_procedure_sms(self, sms: act.SendProcedureSms) -> bool:
        """Queue the SMS in the notification outbox; False when there is none (a dry run)."""
        ...


@dataclass
class Runner:
    engine: DialogueEngine
    ports: CallPorts
    created: list[tuple[str, bool]] = field(default_factory=list)  # (tracking code, complete)
    dry_run_draft: Draft | None = None  # set when a dry-run port declined to file a complete report
    sms_sent: list[act.SendProcedureSms] = field(default_factory=list)  # queued in the outbox

    @property
    def finished(self) -> bool:
        return self.engine.finished or self.dry_run_draft is not None

    def start(self) -> list[act.Action]:
        return self._run(self.engine.start())

    def send(self, event: ev.Event) -> list[act.Action]:
        if self.dry_run_draft is not None:
            return []
        return self._run(self.engine.handle(event))

    def _run(self, first: list[act.Action]) -> list[act.Action]:
        pending = deque(first)
        out: list[act.Action] = []
        while pending:
            action = pending.popleft()
            out.append(action)
            answer: ev.Event | None = None
            if isinstance(action, (act.LookupDossier, act.LookupTicket)):
                answer = self._lookup(action)
            elif isinstance(action, act.CreateTicket):
                answer = self._create(action)
            elif isinstance(action, act.SendProcedureSms):
                self._send_sms(action)
            if answer is not None:
                pending.extend(self.engine.handle(answer))
        return out

    def _lookup(self, action: act.LookupDossier | act.LookupTicket) -> ev.Event:
        try:
            if isinstance(action, act.LookupDossier):
                return self.ports.lookup_dossier(action.code)
            return self.ports.lookup_ticket(action.code)
        except Exception:  # the engine apologises and hands over on a Timeout
            log.exception("lookup of %s failed", action.code)
            return ev.Timeout()

    def _send_sms(self, action: act.SendProcedureSms) -> None:
        try:
            if self.ports.send_procedure_sms(action):
                self.sms_sent.append(action)
        except Exception:  # the caller has had the answer by voice; the SMS is a courtesy
            log.exception("could not queue the SMS of procedure %s", action.procedure_id)

    def _create(self, action: act.CreateTicket) -> ev.Event | None:
        try:
            code = self.ports.create_ticket(action.draft, action.complete)
        except Exception:
            log.exception("ticket creation failed")
            code = ""
        if code:
            self.created.append((code, action.complete))
        if not action.complete:
            return None  # nobody is listening for an incomplete draft's code
        if code is None:
            self.dry_run_draft = action.draft
            return None
        return ev.TicketCreated(code)
