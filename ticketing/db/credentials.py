"""Tables and the SQL store of the integration doors: API keys and access tokens (digests only),
the reporters' one-time codes, and webhook subscriptions. Each store call is one transaction; making
or revoking a credential and changing a webhook is written to the audit log in the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text, bindparam, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ticketing.credentials import CODE_ATTEMPTS, Credential, CredentialKind
from ticketing.db.base import Base
from ticketing.db.repositories import SqlAuditLog, SqlUnitOfWork
from ticketing.db.types import AwareDateTime
from ticketing.ports import AuditEntry, UnitOfWork
from ticketing.webhooks import Webhook


class ApiCredentialRow(Base):
    __tablename__ = "api_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(100), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class OneTimeCodeRow(Base):
    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_code: Mapped[str] = mapped_column(String(32), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    grant_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    grant_expires: Mapped[datetime | None] = mapped_column(AwareDateTime())


class WebhookRow(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(100))  # kept: every delivery is signed with it
    agency: Mapped[str] = mapped_column(String(32), default="")  # "" = every ticket
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


def _credential(row: ApiCredentialRow) -> Credential:
    return Credential(
        row.id,
        CredentialKind(row.kind),
        row.name,
        row.owner,
        row.hint,
        row.created_at,
        row.created_by,
        row.expires_at,
        row.revoked_at,
    )


def _public(c: Credential) -> dict[str, object]:
    return {"id": c.id, "kind": c.kind.value, "name": c.name, "owner": c.owner, "hint": c.hint}


def _webhook(row: WebhookRow) -> Webhook:
    return Webhook(row.id, row.name, row.url, row.secret, row.agency, row.active)


def webhooks_in_uow(uow: UnitOfWork) -> list[Webhook]:
    """The active subscriptions, read in the unit of work's own transaction (one SQLite writer)."""
    if not isinstance(uow, SqlUnitOfWork):
        raise TypeError("webhooks_in_uow needs the SQL unit of work")
    return [_webhook(r) for r in uow.session.scalars(_ACTIVE_WEBHOOKS)]


# built once: every ticket change reads the subscriptions, every API call its credential
_ACTIVE_WEBHOOKS = select(WebhookRow).where(WebhookRow.active.is_(True)).order_by(WebhookRow.id)
_BY_DIGEST = select(ApiCredentialRow).where(ApiCredentialRow.digest == bindparam("digest"))


class SqlCredentialStore:
    """:class:`ticketing.credentials.CredentialStore` and :class:`ticketing.webhooks.WebhookStore`."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    # --- credentials -------------------------------------------------------------------------------

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
    ) -> Credential:
        with self.sessions() as session, session.begin():
            row = ApiCredentialRow(
                kind=kind.value,
                name=name,
                owner=owner,
                digest=digest,
                hint=hint,
                created_at=now,
                created_by=actor,
                expires_at=expires_at,
            )
            session.add(row)
            session.flush()
            cred = _credential(row)
            SqlAuditLog(session).record(
                AuditEntry(now, actor, kind.value, str(row.id), "create", None, _public(cred))
            )
        return cred

    def by_digest(self, digest: str) -> Credential | None:
        with self.sessions() as session:
            row = session.scalar(_BY_DIGEST, {"digest": digest})
            return _credential(row) if row is not None else None

    def find(self, kind: CredentialKind, owner: str = "") -> list[Credential]:
        with self.sessions() as session:
            stmt = select(ApiCredentialRow).where(ApiCredentialRow.kind == kind.value)
            if owner:
                stmt = stmt.where(ApiCredentialRow.owner == owner)
            return [_credential(r) for r in session.scalars(stmt.order_by(ApiCredentialRow.id))]

    def revoke(self, credential_id: int, kind: CredentialKind, now: datetime, actor: str) -> bool:
        with self.sessions() as session, session.begin():
            row = session.get(ApiCredentialRow, credential_id)
            if row is None or row.kind != kind.value or row.revoked_at is not None:
                return False
            row.revoked_at = now
            SqlAuditLog(session).record(
                AuditEntry(now, actor, kind.value, str(row.id), "revoke", None, _public(_credential(row)))
            )
        return True

    # --- one-time codes ----------------------------------------------------------------------------

    def add_code(self, ticket_code: str, digest: str, now: datetime, expires_at: datetime) -> None:
        with self.sessions() as session, session.begin():
            # a new code replaces the ticket's earlier live ones
            session.execute(
                update(OneTimeCodeRow)
                .where(OneTimeCodeRow.ticket_code == ticket_code, OneTimeCodeRow.used_at.is_(None))
                .values(expires_at=now)
            )
            session.add(
                OneTimeCodeRow(ticket_code=ticket_code, digest=digest, created_at=now, expires_at=expires_at)
            )

    def use_code(
        self, ticket_code: str, digest: str, now: datetime, grant_digest: str, grant_expires: datetime
    ) -> bool:
        with self.sessions() as session, session.begin():
            row = session.scalar(
                select(OneTimeCodeRow)
                .where(
                    OneTimeCodeRow.ticket_code == ticket_code,
                    OneTimeCodeRow.used_at.is_(None),
                    OneTimeCodeRow.expires_at > now,
                )
                .order_by(OneTimeCodeRow.id.desc())
                .limit(1)
                .with_for_update()
            )
            if row is None or row.attempts >= CODE_ATTEMPTS:
                return False
            if row.digest != digest:
                row.attempts += 1
                return False
            row.used_at = now
            row.grant_digest = grant_digest
            row.grant_expires = grant_expires
        return True

    def grant_ticket(self, grant_digest: str, now: datetime) -> str | None:
        with self.sessions() as session:
            row = session.scalar(select(OneTimeCodeRow).where(OneTimeCodeRow.grant_digest == grant_digest))
            if row is None or row.grant_expires is None or row.grant_expires <= now:
                return None
            return row.ticket_code

    def codes_sent_since(self, ticket_code: str, since: datetime) -> int:
        with self.sessions() as session:
            stmt = select(func.count(OneTimeCodeRow.id)).where(
                OneTimeCodeRow.ticket_code == ticket_code, OneTimeCodeRow.created_at >= since
            )
            return int(session.scalar(stmt) or 0)

    # --- webhooks ----------------------------------------------------------------------------------

    def add_webhook(
        self, name: str, url: str, secret: str, agency: str, now: datetime, actor: str
    ) -> Webhook:
        with self.sessions() as session, session.begin():
            row = WebhookRow(
                name=name, url=url, secret=secret, agency=agency, created_at=now, created_by=actor
            )
            session.add(row)
            session.flush()
            hook = _webhook(row)
            info = {"id": hook.id, "name": name, "url": url, "agency": agency}
            SqlAuditLog(session).record(AuditEntry(now, actor, "webhook", str(row.id), "create", None, info))
        return hook

    def webhooks(self, *, active_only: bool = True) -> list[Webhook]:
        with self.sessions() as session:
            stmt = select(WebhookRow).order_by(WebhookRow.id)
            if active_only:
                stmt = stmt.where(WebhookRow.active.is_(True))
            return [_webhook(r) for r in session.scalars(stmt)]

    def remove_webhook(self, webhook_id: int, now: datetime, actor: str) -> bool:
        with self.sessions() as session, session.begin():
            row = session.get(WebhookRow, webhook_id)
            if row is None or not row.active:
                return False
            row.active = False
            SqlAuditLog(session).record(AuditEntry(now, actor, "webhook", str(row.id), "remove", None, None))
        return True
