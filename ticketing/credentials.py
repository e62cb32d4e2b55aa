"""Credentials of the integration doors: API keys (Open311 clients) and personal access tokens (the
REST API), and the one-time codes a reporter receives by SMS to see and follow up their own ticket.

A secret is shown once when made and only its SHA-256 digest is stored: every secret here is 32
random bytes (or a short code that lives minutes and allows a few tries), so a slow password hash
would add nothing (see docs/decisions/120-api-credentials.md). Storage is behind
:class:`CredentialStore` (SQL adapter: :mod:`ticketing.db.credentials`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from ticketing.domain.errors import ValidationError
from ticketing.ports import Clock


class CredentialKind(StrEnum):
    API_KEY = "api_key"
    TOKEN = "token"


_PREFIX = {CredentialKind.API_KEY: "hk_", CredentialKind.TOKEN: "hpat_"}
CODE_LIFETIME = timedelta(minutes=10)
CODE_ATTEMPTS = 5
GRANT_LIFETIME = timedelta(minutes=30)


@dataclass(frozen=True)
class Credential:
    id: int
    kind: CredentialKind
    name: str  # the client's name (API key) or a label (token)
    owner: str  # who it acts as: the key's client name, or the staff user's name (token)
    hint: str  # the first characters, to recognise it in a list
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class CredentialStore(Protocol):
    def add(
        self,
        kind: CredentialKind,
        name: str,
        owner: str,
        digest: str,
        hint: str,
        now: datetime,
        actor: str,
        expires_at: datetime | None,
    ) -> Credential: ...

    def by_digest(self, digest: str) -> Credential | None: ...

    def find(self, kind: CredentialKind, owner: str = "") -> list[Credential]: ...

    def revoke(self, credential_id: int, kind: CredentialKind, now: datetime, actor: str) -> bool: ...

    # one-time codes: (ticket code, digest of the code) -> a grant token's digest once verified
    def add_code(self, ticket_code: str, digest: str, now: datetime, expires_at: datetime) -> None: ...

    def use_code(
        self, ticket_code: str, digest: str, now: datetime, grant_digest: str, grant_expires: datetime
    ) -> bool:
        """Mark the newest live code of the ticket used when ``digest`` matches (storing the grant);
        otherwise count a failed attempt. True when it matched."""
        ...

    def grant_ticket(self, grant_digest: str, now: datetime) -> str | None:
        """The ticket code a live grant opens, or None."""
        ...

    def codes_sent_since(self, ticket_code: str, since: datetime) -> int: ...


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def code_digest(ticket_code: str, code: str) -> str:
    return digest(f"{ticket_code}:{code}")


class CredentialService:
    """Make, check, list and revoke API keys and tokens; issue and check one-time codes."""

    def __init__(self, store: CredentialStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # --- keys and tokens ---------------------------------------------------------------------------

    def create(
        self,
        kind: CredentialKind,
        name: str,
        actor: str,
        *,
        owner: str = "",
        expires_in: timedelta | None = None,
    ) -> tuple[Credential, str]:
        """A new credential and its secret (returned once, never stored)."""
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationError("Tên không hợp lệ (1-100 ký tự) / the name must be 1-100 characters")
        if expires_in is not None and expires_in <= timedelta(0):
            raise ValidationError("Thời hạn phải lớn hơn 0 / the expiry must be positive")
        if kind is CredentialKind.API_KEY and any(
            c.name == name and c.revoked_at is None for c in self.store.find(kind)
        ):
            raise ValidationError(f"Đã có khóa API tên {name!r} / an API key named {name!r} exists")
        secret = _PREFIX[kind] + secrets.token_urlsafe(32)
        now = self.clock.now()
        cred = self.store.add(
            kind,
            name,
            owner.strip() or name,
            digest(secret),
            secret[: len(_PREFIX[kind]) + 6],
            now,
            actor,
            now + expires_in if expires_in is not None else None,
        )
        return cred, secret

    def authenticate(self, kind: CredentialKind, secret: str) -> Credential | None:
        """The live credential of that kind for ``secret``, else None (unknown, revoked or expired)."""
        secret = (secret or "").strip()
        if not secret.startswith(_PREFIX[kind]) or len(secret) > 200:
            return None
        cred = self.store.by_digest(digest(secret))
        if cred is None or cred.kind is not kind or not cred.active(self.clock.now()):
            return None
        return cred

    def list(self, kind: CredentialKind, owner: str = "") -> list[Credential]:
        return self.store.find(kind, owner)

    def revoke(self, kind: CredentialKind, credential_id: int, actor: str) -> None:
        if not self.store.revoke(credential_id, kind, self.clock.now(), actor):
            raise ValidationError(
                f"Không có {kind.value} số {credential_id} đang hiệu lực / "
                f"no live {kind.value} {credential_id}"
            )

    # --- one-time codes ----------------------------------------------------------------------------

    def new_code(self, ticket_code: str, *, per_hour: int = 5) -> str:
        """A 6-digit code for the ticket (to send by SMS to its reporter); at most ``per_hour``."""
        now = self.clock.now()
        if self.store.codes_sent_since(ticket_code, now - timedelta(hours=1)) >= per_hour:
            raise ValidationError(
                "Đã gửi quá nhiều mã trong một giờ, vui lòng thử lại sau / too many codes this hour"
            )
        code = f"{secrets.randbelow(10**6):06d}"
        self.store.add_code(ticket_code, code_digest(ticket_code, code), now, now + CODE_LIFETIME)
        return code

    def check_code(self, ticket_code: str, code: str) -> str | None:
        """A grant secret (for a cookie) when ``code`` is the ticket's live code, else None."""
        code = "".join(ch for ch in (code or "") if ch.isdigit())
        if len(code) != 6:
            return None
        now = self.clock.now()
        grant = secrets.token_urlsafe(32)
        ok = self.store.use_code(
            ticket_code, code_digest(ticket_code, code), now, digest(grant), now + GRANT_LIFETIME
        )
        return grant if ok else None

    def granted(self, grant: str, ticket_code: str) -> bool:
        """Whether the grant secret opens this ticket now."""
        if not grant or len(grant) > 200:
            return False
        opened = self.store.grant_ticket(digest(grant), self.clock.now())
        return opened is not None and hmac.compare_digest(opened, ticket_code)
