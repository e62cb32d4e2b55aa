"""The error type every command raises for bad input; the root group prints it in one line."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused operation, reported as ``Lỗi / Error: <message>`` with exit status 1."""
