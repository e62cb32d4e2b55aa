"""The operators table (human operators' PJSIP endpoints) and its small repository.

Only the SIP digest (``MD5(name:realm:password)``) is stored, never the password itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ticketing.db.base import Base
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

    def add(self, endpoint: OperatorEndpoint, now: datetime | None = None) -> OperatorRow:
        if self.get(endpoint.name) is not None:
            raise OperatorExists(endpoint.name)
        row = OperatorRow(
            name=endpoint.name,
            display_name=endpoint.display_name,
            password_md5=endpoint.password_md5,
            created_at=now or datetime.now(UTC),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def remove(self, name: str) -> bool:
        row = self.get(name)
        if row is None:
            return False
        self.session.delete(row)
        self.session.flush()
        return True
