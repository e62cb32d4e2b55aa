"""A logging filter that blanks credentials in every record, whichever library wrote it.

Credentials travel in headers, not URLs, but a library may still log a URL with a query, a header
dump or an exception carrying a DSN: ``token=``, ``api_key=``, ``password=``/``secret=`` query or
key-value pairs, ``Authorization: Basic|Bearer ...`` and ``user:password@`` in URLs are replaced by
``***`` in the formatted message before any handler writes it. Secret values known at start-up (the
ARI/AMI passwords, the Rasa token) can be registered too and are blanked wherever they appear.
"""

from __future__ import annotations

import logging
import re

REDACTED = "***"
_PATTERNS = (
    # query strings and key=value / key: value pairs
    re.compile(
        r"(?i)(\b(?:token|auth[_-]?token|api[_-]?key|apikey|password|passwd|secret|access[_-]?token)"
        r"\s*[=:]\s*[\"']?)([^\s&\"',;)}]+)"
    ),
    # Authorization headers (Basic/Bearer/Digest credentials)
    re.compile(
        r"(?i)(\bauthorization\b[\"']?\s*[:=,]\s*[\"']?(?:basic|bearer|digest)\s+)([A-Za-z0-9._~+/=-]+)"
    ),
    re.compile(r"(?i)(\b(?:basic|bearer)\s+)([A-Za-z0-9._~+/-]{16,}={0,2})"),
    # user:password@host in URLs and DSNs
    re.compile(r"([a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)"),
)


def _blank(match: re.Match[str]) -> str:
    """The match with its credential group (the second) replaced; any suffix group kept."""
    return match.group(1) + REDACTED + (match.group(3) if match.lastindex == 3 else "")


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with credentials blanked (the record then carries no args)."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = {s for s in secrets if len(s) >= 6}

    def add_secret(self, value: str) -> None:
        if value and len(value) >= 6:
            self.secrets.add(value)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(
                lambda m: m.group(1) + REDACTED + (m.group(3) if m.lastindex == 3 else ""), text
            )
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error report
            return True
        clean = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactingFilter()


def install(root: logging.Logger | None = None) -> RedactingFilter:
    """Attach the process-wide filter to every handler of ``root`` (the root logger by default)."""
    logger = root or logging.getLogger()
    for handler in logger.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    return _FILTER


def register_secret(value: str) -> None:
    """Blank this exact value in every log record from now on."""
    _FILTER.add_secret(value)
