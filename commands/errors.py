"""The error type every command raises for bad input (the root group prints it in one line), and the
one settings loader of the commands."""

from __future__ import annotations

from config.settings import Settings, SettingsError, get_settings


class UserError(Exception):
    """Bad input or a refused operation, reported as ``Lỗi / Error: <message>`` with exit status 1."""


def load_settings() -> Settings:
    """The settings, or a one-line error when they are invalid (the one loader every command uses)."""
    try:
        return get_settings()
    except SettingsError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"Cấu hình không hợp lệ / invalid configuration: {first}") from exc
