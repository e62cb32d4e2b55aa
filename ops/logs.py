"""Logging of every hotline process: text or JSON lines, the call id and ticket code on every record,
personal data and secrets redacted, and size-based rotation of the files the product writes.

- :func:`configure` installs one stderr handler with the chosen format and the filters (the CLI calls
  it; services started by ``hotline up`` inherit stderr into ``<data_dir>/log/<name>.log``, under
  systemd it goes to journald).
- :func:`bind_call` gives the tasks of one call a :class:`LogContext` (call id, and the ticket code
  once one is filed) that every record logged from them carries.
- :class:`Redactor` removes phone numbers, CCCD numbers and secrets from the message, its arguments
  and the traceback: personal data never reaches a log file, whatever a developer writes.
- :func:`rotate_copytruncate` rotates a log another process keeps open for appending;
  :func:`rotate_renamed` rotates a file whose writers open it anew for each append (journals).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal


@dataclass
class LogContext:
    call_id: str = ""
    ticket_code: str = ""


_CONTEXT: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("hotline_log", default=None)


def current() -> LogContext | None:
    return _CONTEXT.get()


def call_context(call_id: str) -> tuple[contextvars.Context, LogContext]:
    """A copy of the current context bound to ``call_id``: run a call's tasks in it
    (``asyncio.create_task(coro, context=ctx)``) so that only they carry the call id."""
    ctx = contextvars.copy_context()
    holder = LogContext(call_id=call_id)
    ctx.run(_CONTEXT.set, holder)
    return ctx, holder


def bind_call(call_id: str) -> LogContext:
    """Bind ``call_id`` in the current context (a task or thread of its own)."""
    holder = LogContext(call_id=call_id)
    _CONTEXT.set(holder)
    return holder


# -- redaction -------------------------------------------------------------------------------------

REDACTED = "[redacted]"
# Vietnamese phone numbers: 0 + 9-10 digits, +84/84 + 9-10 digits, optionally grouped by spaces/dots.
_PHONE = r"(?:\+?84|0)\d(?:[ .-]?\d){8,9}"
# CCCD / CMND: 12 (or 9 legacy CMND is not distinguishable from a tracking code: only 12) digits.
_CCCD = r"\d{12}"
_NUMBERS = re.compile(rf"(?<![\w.+-])(?:{_PHONE}|{_CCCD})(?![\w])")
_SECRET_KV = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|authorization|ari_password|ami_password)"
    r"(\s*[=:]\s*|\"\s*:\s*\")([^\s,;&\"']+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@\s]+)(@)")


class Redactor:
    """Removes phone numbers, CCCD numbers, secrets (key=value, bearer tokens, URL passwords) and
    the configured secret values from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_PASSWORD.sub(rf"\1{REDACTED}\3", text)
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        text = _SECRET_KV.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        return _NUMBERS.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Renders each record's message once, redacted; adds ``call_id`` and ``ticket_code``."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None  # the redacted text is what is printed
        ctx = current()
        record.call_id = getattr(record, "call_id", "") or (ctx.call_id if ctx else "")
        record.ticket_code = getattr(record, "ticket_code", "") or (ctx.ticket_code if ctx else "")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "call_id": getattr(record, "call_id", ""),
            "ticket_code": getattr(record, "ticket_code", ""),
            "process": record.process,
        }
        if record.exc_text:
            data["exc"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [call=%(call_id)s ticket=%(ticket_code)s]: %(message)s"


def configured_secrets(settings: Any) -> list[str]:
    """The secret values of the settings (never logged, whatever the message looks like)."""
    out: list[str] = []
    for section, names in {
        "pbx": ("ari_password", "ami_password"),
        "nlu": ("rasa_token",),
        "notify": ("sms_token", "smtp_password"),
        "call": ("dossier_token",),
    }.items():
        part = getattr(settings, section, None)
        out += [str(getattr(part, n, "") or "") for n in names]
    return [s for s in out if s]


def configure(
    level: int, fmt: Literal["text", "json"] = "text", secrets: Iterable[str] = (), stream: Any = None
) -> logging.Handler:
    """Replace the root logger's handlers with one on ``stream`` (stderr) in ``fmt``, redacting."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


# -- rotation --------------------------------------------------------------------------------------


def _shift(path: Path, backups: int) -> None:
    """path.N-1 -> path.N ... path.1 -> path.2 (the oldest is dropped)."""
    for i in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{i}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{i + 1}"))


def rotate_copytruncate(path: Path, max_bytes: int, backups: int) -> bool:
    """Rotate a log a running process appends to (O_APPEND): copy it to ``.1`` and truncate it in
    place, so the writer goes on at offset 0 of the same file. True when rotated."""
    try:
        if path.stat().st_size <= max_bytes or backups < 1:
            return False
    except FileNotFoundError:
        return False
    _shift(path, backups)
    target = path.with_name(f"{path.name}.1")
    with (
        path.open("rb") as src,
        open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out,
    ):
        shutil.copyfileobj(src, out)
        copied = src.tell()
    with path.open("r+b") as fh:
        # lines appended during the copy are kept: move the tail to the front, then cut
        fh.seek(copied)
        tail = fh.read()
        fh.seek(0)
        fh.write(tail)
        fh.truncate(len(tail))
    return True


def rotate_renamed(path: Path, max_bytes: int, backups: int) -> bool:
    """Rotate a file whose writers open it for each append (journals): rename it to ``.1``."""
    try:
        if path.stat().st_size <= max_bytes or backups < 1:
            return False
    except FileNotFoundError:
        return False
    _shift(path, backups)
    os.replace(path, path.with_name(f"{path.name}.1"))
    return True


def rotate_logs(log_dir: Path, max_bytes: int, backups: int, exclude: Iterable[str] = ()) -> list[str]:
    """Rotate every ``*.log`` under ``log_dir`` (but ``exclude``) beyond ``max_bytes``; their names."""
    rotated = []
    skip = set(exclude)
    with contextlib.suppress(FileNotFoundError):
        for path in sorted(Path(log_dir).glob("*.log")):
            if path.name in skip:
                continue
            if path.is_file() and rotate_copytruncate(path, max_bytes, backups):
                rotated.append(path.name)
    return rotated
