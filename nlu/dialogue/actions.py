"""Actions the dialogue engine asks its runner to perform: speak, listen, look up, file, transfer, hang up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nlu.dialogue.draft import Draft

Grammar = Literal["digits", "yesno", "free"]


@dataclass(frozen=True)
class Say:
    """Speak ``text`` to the caller; with ``barge_in`` the caller may interrupt it."""

    text: str
    barge_in: bool = True


@dataclass(frozen=True)
class Listen:
    """Listen for the next caller turn; ``grammar`` lets the ASR restrict its vocabulary."""

    slot: str
    grammar: Grammar = "free"


@dataclass(frozen=True)
class LookupDossier:
    """Look up an administrative-procedure dossier; answer with ``DossierResult``."""

    code: str


@dataclass(frozen=True)
class LookupTicket:
    """Look up a report by tracking code; answer with ``TicketStatus``."""

    code: str


@dataclass(frozen=True)
class AnswerProcedure:
    """Record that procedure ``procedure_id`` of the knowledge base was explained (the text is in a Say)."""

    procedure_id: str


@dataclass(frozen=True)
class SendProcedureSms:
    """Send the explained procedure to the caller's phone by SMS (the caller said yes to the offer)."""

    procedure_id: str
    phone: str
    title: str
    summary: str


@dataclass(frozen=True)
class CreateTicket:
    """File the report. ``complete=False`` keeps an incomplete draft for an operator call-back.

    A complete ticket is answered with ``TicketCreated``; an incomplete one needs no answer.
    """

    draft: Draft
    complete: bool = True


@dataclass(frozen=True)
class Transfer:
    """Hand the caller to a human operator, with what has been collected so far."""

    reason: str  # "caller_request" | "urgent" | "not_understood" | "no_response" | "procedure_unknown" | ...
    draft: Draft | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Hangup:
    """End the call."""


Action = (
    Say
    | Listen
    | LookupDossier
    | LookupTicket
    | AnswerProcedure
    | SendProcedureSms
    | CreateTicket
    | Transfer
    | Hangup
)
