"""Translation of SQLAlchemy's exceptions into :mod:`ticketing.errors` at the adapter boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from ticketing.errors import ConcurrentChange, StorageConflict, StorageError, StorageUnavailable


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def translate(exc: SQLAlchemyError) -> StorageError:
    """The ticketing exception for a SQLAlchemy one (message: its first line)."""
    message = _first_line(exc)
    if isinstance(exc, StaleDataError):
        return ConcurrentChange(message)
    if isinstance(exc, IntegrityError):
        return StorageConflict(message)
    if isinstance(exc, OperationalError | DBAPIError):
        return StorageUnavailable(message)
    return StorageError(message)


@contextmanager
def storage_errors() -> Iterator[None]:
    """Re-raise SQLAlchemy's exceptions as :class:`ticketing.errors.StorageError` (chained)."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise translate(exc) from exc
