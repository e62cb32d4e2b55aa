"""Engines and sessions for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout instead of failing on a lock
upgrade. PostgreSQL is used through psycopg v3 (``postgresql+psycopg://...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config.private_files import create_private, private_dir, tighten

SQLITE_BUSY_TIMEOUT_MS = 15_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def redacted_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory / other backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(
    url: str,
    *,
    echo: bool = False,
    foreign_keys: bool = True,
    create_dir: bool = False,
    pool_size: int = 20,
    max_overflow: int = 10,
) -> Engine:
    """Create an engine for ``url``.

    ``create_dir`` creates the directory of a SQLite file (only migrations should do that, so that a
    mistyped path is reported as a missing database instead of silently creating a new one).
    ``foreign_keys=False`` is for migrations that rebuild tables in batch mode. ``pool_size`` and
    ``max_overflow``: the PostgreSQL connections kept open, and opened for a burst (settings
    ``database.pool_size`` / ``database.max_overflow``).
    """
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            # The database holds personal data: owner-only, and SQLite gives its -wal/-shm files
            # the mode of the database file.
            if create_dir:
                private_dir(path.parent)
                create_private(path)
            tighten(path)
            for side in ("-wal", "-shm"):
                tighten(path.with_name(path.name + side))
        engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
