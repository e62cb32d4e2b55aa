"""Dossier status lookup for the DTMF path: a port and a CSV-table adapter (tests and demos).

Production plugs in an adapter of the city's administrative-procedure system with the same
``lookup`` method. Callers key only digits, so codes are matched on their digits: the keyed digits
must equal the digits of a stored code or its 10-digit tail (receipt date + running number).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Protocol


class DossierDirectory(Protocol):
    def lookup(self, digits: str) -> tuple[str, str] | None:
        """``(code, status text in Vietnamese)`` of the dossier the digits name, or None."""
        ...


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class CsvDossierDirectory:
    """Rows ``code,status`` in a UTF-8 CSV file with a header; re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: int | None = None
        self._rows: list[tuple[str, str]] = []

    def _load(self) -> list[tuple[str, str]]:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        if stamp != self._stamp:
            with self.path.open(encoding="utf-8", newline="") as fh:
                self._rows = [(r["code"].strip(), r["status"].strip()) for r in csv.DictReader(fh)]
            self._stamp = stamp
        return self._rows

    def lookup(self, digits: str) -> tuple[str, str] | None:
        keyed = _digits(digits)
        if len(keyed) < 6:
            return None
        for code, status in self._load():
            stored = _digits(code)
            if keyed == stored or (len(keyed) == 10 and stored.endswith(keyed)):
                return code, status
        return None
