"""A synchronous runner for the engine: performs lookups and ticket filing through ports and feeds the
answers back, so a caller of :meth:`Runner.send` only sees Say/Listen/Transfer/Hangup and friends.

Used by the text console (``hotline chat``) and by tests; the live call has its own asyncio loop.
Both carry the port actions out with :class:`nlu.dialogue.performer.ActionPerformer`, so the failure
rules are the same: a failing lookup becomes a ``Timeout`` event, a failing (or journaled) filing a
``TicketCreated("")`` (the engine then hands the caller to an operator with the draft).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.engine import DialogueEngine
from nlu.dialogue.performer import ActionPerformer, CallPorts

log = logging.getLogger(__name__)


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
        performer = ActionPerformer(self.ports)
        pending = deque(first)
        out: list[act.Action] = []
        while pending:
            action = pending.popleft()
            out.append(action)
            if not performer.handles(action):
                continue
            done = performer.perform(action)
            if done.filed is not None:
                self.created.append(done.filed)
            if done.dry_run and isinstance(action, act.CreateTicket):
                self.dry_run_draft = action.draft
            if done.sms_sent and isinstance(action, act.SendProcedureSms):
                self.sms_sent.append(action)
            if done.answer is not None:
                pending.extend(self.engine.handle(done.answer))
        return out


__all__ = ["CallPorts", "Runner"]
