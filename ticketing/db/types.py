"""Column types shared by the tables: aware datetimes stored as UTC on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class AwareDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC (``timestamptz`` on PostgreSQL, UTC text on SQLite) and returns them
    in Asia/Ho_Chi_Minh. Naive datetimes are refused: a deadline without an offset is a bug."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; give an offset")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        stamp: datetime = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return stamp.astimezone(LOCAL_TZ)
