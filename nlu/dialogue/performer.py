"""The one performer of the engine's port actions (lookups, filing, the guidance SMS), shared by the
console runner (:mod:`nlu.dialogue.runner`) and the live call handler (:mod:`pbx.ai_operator.handler`).

It carries an action out through the :class:`CallPorts` and turns the outcome into the event the
engine expects, with the same failure rules everywhere: a failing lookup becomes ``Timeout`` (the
engine apologises and offers an operator); a failing filing becomes ``TicketCreated("")``, and so does
a report that went to the journal (there is no tracking code to read out; an operator takes over);
a dry run (the console without ``--create``) is reported as such. Blocking: the live call runs it in a
worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft

log = logging.getLogger(__name__)

PORT_ACTIONS = (act.LookupDossier, act.LookupTicket, act.CreateTicket, act.SendProcedureSms)


class CallPorts(Protocol):
    def lookup_dossier(self, code: str) -> ev.DossierResult: ...

    def lookup_ticket(self, code: str) -> ev.TicketStatus: ...

    def create_ticket(self, draft: Draft, complete: bool) -> str | None:
        """File the draft; the tracking code, a journal id (``J-...``) when journaled, "" on failure,
        or None for a dry run (not filed)."""
        ...

    def send_procedure_sms(self, sms: act.SendProcedureSms) -> bool:
        """Queue the SMS in the notification outbox; False when there is none (a dry run)."""
        ...


def is_journal_id(code: str) -> bool:
    return code.startswith("J-")


@dataclass(frozen=True)
class Performed:
    answer: ev.Event | None = None  # what to hand back to the engine
    filed: tuple[str, bool] | None = None  # (tracking code or journal id, complete) when filed
    dry_run: bool = False  # a complete report the port declined to file (console without --create)
    sms_sent: bool = False


class ActionPerformer:
    def __init__(self, ports: CallPorts) -> None:
        self.ports = ports

    @staticmethod
    def handles(action: act.Action) -> bool:
        return isinstance(action, PORT_ACTIONS)

    def perform(self, action: act.Action) -> Performed:
        if isinstance(action, act.LookupDossier | act.LookupTicket):
            return Performed(self._lookup(action))
        if isinstance(action, act.CreateTicket):
            return self._create(action)
        if isinstance(action, act.SendProcedureSms):
            return Performed(sms_sent=self._send_sms(action))
        return Performed()

    def _lookup(self, action: act.LookupDossier | act.LookupTicket) -> ev.Event:
        try:
            if isinstance(action, act.LookupDossier):
                return self.ports.lookup_dossier(action.code)
            return self.ports.lookup_ticket(action.code)
        except Exception:  # the engine apologises and hands over on a Timeout
            log.exception("lookup of %s failed", action.code)
            return ev.Timeout()

    def _create(self, action: act.CreateTicket) -> Performed:
        try:
            code = self.ports.create_ticket(action.draft, action.complete)
        except Exception:
            log.exception("filing the report failed")
            code = ""
        if code is None:
            return Performed(dry_run=action.complete)
        filed = (code, action.complete) if code else None
        if not action.complete:
            return Performed(filed=filed)  # nobody is listening for an incomplete draft's code
        return Performed(ev.TicketCreated("" if is_journal_id(code) else code), filed)

    def _send_sms(self, action: act.SendProcedureSms) -> bool:
        try:
            sent = self.ports.send_procedure_sms(action)
        except Exception:  # the caller has had the answer by voice; the SMS is a courtesy
            log.exception("could not queue the SMS of procedure %s", action.procedure_id)
            return False
        if not sent:
            log.info("no outbox: the SMS of procedure %s was not queued", action.procedure_id)
        return sent
