"""The operators table (human operators' PJSIP endpoints) and its small repository.

Only the SIP digest (``MD5(name:realm:password)``) is stored, never the password itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ticketing.db.base import Base
from ticketing.db.models import AuditLogRow
from ticketing.db.types import AwareDateTime
from ticketing.operators import OperatorEndpoint


class OperatorRow(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_md5: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())

    def endpoint(self) -> OperatorEndpoint:
        return OperatorEndpoint(self.name, self.display_name, self.password_md5)


class OperatorExists(ValueError):
    """An operator with this name already exists."""


class OperatorRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[OperatorRow]:
        return list(self.session.scalars(select(OperatorRow).order_by(OperatorRow.name)))

    def endpoints(self) -> list[OperatorEndpoint]:
        return [row.endpoint() for row in self.all()]

    def get(self, name: str) -> OperatorRow | None:
        return self.session.scalar(select(OperatorRow).where(OperatorRow.name == name))

    def add(self, endpoint: OperatorEndpoint, now: datetime | None = None, actor: str = "cli") -> OperatorRow:
        """Add the endpoint and its audit row in the same transaction (never the password digest)."""
        if self.get(endpoint.name) is not None:
            raise OperatorExists(endpoint.name)
        at = now or datetime.now(UTC)
        row = OperatorRow(
            name=endpoint.name,
            display_name=endpoint.display_name,
            password_md5=endpoint.password_md5,
            created_at=at,
        )
        self.session.add(row)
        self._audit(
            at, actor, endpoint.name, "add", None, {"name": row.name, "display_name": row.display_name}
        )
        self.session.flush()
        return row

    def remove(self, name: str, now: datetime | None = None, actor: str = "cli") -> bool:
        row = self.get(name)
        if row is None:
            return False
        before = {"name": row.name, "display_name": row.display_name}
        self.session.delete(row)
        self._audit(now or datetime.now(UTC), actor, name, "remove", before, None)
        self.session.flush()
        return True

    def _audit(
        self,
        at: datetime,
        actor: str,
        name: str,
        action: str,
        before: dict[str, str] | None,
        after: dict[str, str] | None,
    ) -> None:
        self.session.add(
            AuditLogRow(
                at=at,
                actor=actor,
                entity="operator",
                entity_id=name,
                action=action,
                before=before,
                after=after,
            )
        )
