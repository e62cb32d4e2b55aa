"""Events that drive the dialogue engine: what the caller did, and answers to the engine's lookups.

The engine never performs I/O. Whatever runs it (text console, WAV simulation, live call) turns speech,
keypad digits and hang-ups into these events, and answers ``Lookup*``/``CreateTicket`` actions with the
result events at the bottom of this module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heard:
    """A final speech recognition result (or typed text in the console)."""

    text: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Digits:
    """Keypad digits (DTMF), e.g. ``"0912345678"``; a trailing ``#`` is allowed and ignored."""

    digits: str


@dataclass(frozen=True)
class Silence:
    """The caller said nothing while the engine was listening."""


@dataclass(frozen=True)
class Timeout:
    """A lookup or listening window ran out without a result."""


@dataclass(frozen=True)
class Hangup:
    """The caller hung up."""


@dataclass(frozen=True)
class DossierResult:
    """Answer to :class:`~nlu.dialogue.actions.LookupDossier`."""

    code: str
    found: bool
    status: str = ""  # e.g. "Đang xử lý"
    procedure: str = ""  # e.g. "Đăng ký khai sinh"
    due_date: str = ""  # ISO date of the promised return (ngày hẹn trả), may be empty


@dataclass(frozen=True)
class TicketStatus:
    """Answer to :class:`~nlu.dialogue.actions.LookupTicket`."""

    code: str
    found: bool
    status: str = ""  # ticket status label, e.g. "Đang xử lý"
    agency: str = ""  # lead agency name, may be empty
    result: str = ""  # result text once done, may be empty


@dataclass(frozen=True)
class TicketCreated:
    """Answer to :class:`~nlu.dialogue.actions.CreateTicket`: the tracking code, or empty on failure."""

    code: str


Event = Heard | Digits | Silence | Timeout | Hangup | DossierResult | TicketStatus | TicketCreated
