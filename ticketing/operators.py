"""Operator endpoints as plain data: name rules, generated passwords and the SIP digest stored for them.

An operator is a PJSIP endpoint (AOR + auth) that a softphone registers to. The password is generated
once, printed once and never stored: the database keeps only the RFC 2617 ``HA1`` digest
(``MD5(name:realm:password)``), which Asterisk accepts as ``password_digest``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

REALM = "hotline"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
# Display names go into a quoted caller id; these characters would break out of it or start a comment.
DISPLAY_FORBIDDEN = frozenset('"<>;,\\[]')
PASSWORD_BYTES = 18  # 24 URL-safe characters


class OperatorError(ValueError):
    """An operator name or display name that cannot become a PJSIP endpoint."""


@dataclass(frozen=True)
class OperatorEndpoint:
    name: str  # endpoint, AOR and SIP user name, e.g. "op1001"
    display_name: str  # shown as caller id, Vietnamese allowed
    password_md5: str  # hex MD5 of "name:REALM:password"


def validate_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise OperatorError(
            f"operator name {name!r} must be 1-40 lowercase letters, digits, '.', '_' or '-' "
            "(tên tổng đài viên chỉ gồm chữ thường không dấu, số, '.', '_', '-')"
        )
    return name


def validate_display_name(display_name: str) -> str:
    if len(display_name) > 80:
        raise OperatorError("display name is longer than 80 characters")
    bad = [ch for ch in display_name if ch in DISPLAY_FORBIDDEN or not ch.isprintable()]
    if bad:
        raise OperatorError(f"display name contains a forbidden character {bad[0]!r}")
    return display_name.strip()


def generate_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def password_md5(name: str, password: str, realm: str = REALM) -> str:
    return hashlib.md5(f"{name}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def new_endpoint(name: str, display_name: str = "") -> tuple[OperatorEndpoint, str]:
    """A new endpoint and its one-time plain password."""
    validate_name(name)
    display = validate_display_name(display_name or name)
    password = generate_password()
    return OperatorEndpoint(name, display, password_md5(name, password)), password
