"""Errors raised by the pure domain rules.

Every message is one line, ``"Vietnamese / English"``, so the CLI and the voice bot can show it as is.
A rule that raises changes nothing: validation always happens before mutation.
"""

from __future__ import annotations


class DomainError(Exception):
    """A domain rule refused an operation. ``str(exc)`` is one line: ``"<Vietnamese> / <English>"``."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class TransitionError(DomainError):
    """The ticket's current status does not allow the requested step."""


class ValidationError(DomainError):
    """A value is missing, unknown or malformed (reason, ward, category, evidence, ...)."""
