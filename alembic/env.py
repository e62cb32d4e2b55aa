"""Alembic environment: runs migrations on the URL given by ``config.attributes["url"]`` (set by
:func:`ticketing.db.migrate.upgrade`) or by the hotline settings. SQLite uses batch mode so that
ALTERs work, with foreign keys off while tables are rebuilt."""

from __future__ import annotations

# Every table module, so autogenerate sees the whole schema.
import ticketing.db.calls
import ticketing.db.credentials
import ticketing.db.leases
import ticketing.db.models
import ticketing.db.operators
import ticketing.db.outbox
import ticketing.db.users  # noqa: F401
from alembic import context
from config.settings import get_settings
from ticketing.db.base import Base
from ticketing.db.engine import is_sqlite, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url")
    if isinstance(url, str) and url:
        return url
    return get_settings().database_url


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=is_sqlite(url),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection, sqlite=connection.dialect.name == "sqlite")
        return
    url = _url()
    engine = make_engine(url, foreign_keys=False, create_dir=True)
    try:
        with engine.connect() as conn:
            _run_on(conn, sqlite=is_sqlite(url))
    finally:
        engine.dispose()


def _run_on(connection: object, *, sqlite: bool) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
