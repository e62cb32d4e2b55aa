"""Spreadsheet-safe cells: text that a spreadsheet would run as a formula is neutralised.

Callers' words (an address, a place name, a reason) reach the reports. A cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is read by Excel/LibreOffice as a formula (or DDE
command) when the XLSX or CSV is opened, so such text gets a leading apostrophe — the spreadsheet
convention for "this is text" — in every export. Plain numbers and the "-" placeholder are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?(?: ?%)?|-")


def neutralise(value: object) -> object:
    """``value`` itself, or for text a spreadsheet would evaluate, the text behind an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(row: Iterable[object]) -> list[object]:
    """Every cell of one row (any iterable of cells) neutralised."""
    return [neutralise(cell) for cell in row]
