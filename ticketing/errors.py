"""Storage failures as the ticket core names them, so no caller needs the database library's types.

The adapters in :mod:`ticketing.db` translate SQLAlchemy's exceptions into these (see
:func:`ticketing.db.errors.storage_errors`); front doors (CLI, calls, web) catch only these.
"""

from __future__ import annotations


class StorageError(RuntimeError):
    """The ticket store failed (the original exception is the ``__cause__``)."""


class StorageUnavailable(StorageError):
    """The database cannot be reached or refused the connection (down, missing, locked too long)."""


class ConcurrentChange(StorageError):
    """The record was changed by someone else in the meantime; the operation can be retried."""


class StorageConflict(StorageError):
    """The change conflicts with stored data (a unique or foreign key constraint)."""
