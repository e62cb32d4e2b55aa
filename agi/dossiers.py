"""Dossier status lookup for the DTMF path: the keyed digits asked of the hotline's dossier source.

The source is the one every channel uses (:attr:`wiring.Services.dossiers`: the city's system over
HTTP when ``call.dossier_url`` is set, else the local table). Callers key only digits: the keyed
digits name a stored code by all its digits or by its 10-digit tail (receipt date + running number).
"""

from __future__ import annotations

import logging
from typing import Protocol

from ticketing.dossiers import DossierLookupError, DossierSource, DossierStatus, TableError

log = logging.getLogger(__name__)


class DossierDirectory(Protocol):
    def lookup(self, digits: str) -> tuple[str, str] | None:
        """``(code, status text in Vietnamese)`` of the dossier the digits name, or None."""
        ...


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class KeyedDossiers:
    """A :class:`DossierDirectory` over a :class:`ticketing.dossiers.DossierSource`."""

    def __init__(self, source: DossierSource) -> None:
        self.source = source

    def lookup(self, digits: str) -> tuple[str, str] | None:
        keyed = _digits(digits)
        if len(keyed) < 6:
            return None
        try:
            found: DossierStatus | None = self.source.lookup(keyed)
            if found is None and len(keyed) > 10:
                found = self.source.lookup(keyed[-10:])
        except (DossierLookupError, TableError, OSError):
            log.exception("dossier lookup failed")  # the caller hears "not found" and may ask an operator
            return None
        return (found.code, found.status) if found is not None else None
