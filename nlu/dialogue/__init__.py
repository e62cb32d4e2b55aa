"""The dialogue engine: a pure state machine from caller events to actions, with its prompts and draft."""

from nlu.dialogue.actions import (
    Action,
    AnswerProcedure,
    CreateTicket,
    Hangup,
    Listen,
    LookupDossier,
    LookupTicket,
    Say,
    SendProcedureSms,
    Transfer,
)
from nlu.dialogue.draft import Draft
from nlu.dialogue.engine import DialogueEngine, Phase
from nlu.dialogue.events import (
    Digits,
    DossierResult,
    Event,
    Heard,
    Silence,
    TicketCreated,
    TicketStatus,
    Timeout,
)
from nlu.dialogue.events import Hangup as CallerHangup
from nlu.dialogue.ports import Interpretation, Interpreter, ProcedureFinder

__all__ = [
    "Action",
    "AnswerProcedure",
    "CallerHangup",
    "CreateTicket",
    "DialogueEngine",
    "Digits",
    "DossierResult",
    "Draft",
    "Event",
    "Hangup",
    "Heard",
    "Interpretation",
    "Interpreter",
    "Listen",
    "LookupDossier",
    "LookupTicket",
    "Phase",
    "ProcedureFinder",
    "Say",
    "SendProcedureSms",
    "Silence",
    "TicketCreated",
    "TicketStatus",
    "Timeout",
    "Transfer",
]
