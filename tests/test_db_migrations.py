"""Migrations on both backends: upgrade to head, downgrade to base and back, and the models match
the migrated schema (no pending autogenerate diff)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import ticketing.db.models  # noqa: F401
from ticketing.db import migrate
from ticketing.db.base import Base
from ticketing.db.engine import make_engine

OWN_TABLES = {
    "tickets",
    "ticket_events",
    "ticket_coordinators",
    "attachments",
    "agencies",
    "routing_rules",
    "code_sequences",
    "audit_log",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_initial_revision_id_is_stable() -> None:
    assert (migrate.script_location() / "versions" / "0001_initial.py").is_file()


def test_upgrade_downgrade_round_trip(db_url: str) -> None:
    assert _tables(db_url) >= OWN_TABLES
    assert migrate.current_revisions(db_url) == migrate.head_revisions()
    migrate.downgrade(db_url, "base")
    assert _tables(db_url) <= {"alembic_version"}
    assert migrate.current_revisions(db_url) == ()
    migrate.upgrade(db_url)
    assert _tables(db_url) >= OWN_TABLES


def test_models_match_migrations(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _own_object})
            diff = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def _own_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Compare only this module's tables: later revisions (e.g. calls) belong to other models."""
    if type_ == "table":
        return name in OWN_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in OWN_TABLES


def test_upgrade_creates_sqlite_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'dir' / 'hotline.db'}"
    migrate.upgrade(url)
    assert (tmp_path / "new" / "dir" / "hotline.db").is_file()
    assert _tables(url) >= OWN_TABLES


def test_sequence_row_seeded(db_url: str) -> None:
    from ticketing.db.engine import make_session_factory
    from ticketing.db.repositories import next_sequence

    engine = make_engine(db_url)
    session = make_session_factory(engine)()
    try:
        assert next_sequence(session, "ticket") == 1
        assert next_sequence(session, "ticket") == 2
        assert next_sequence(session, "other") == 1
        session.commit()
    finally:
        session.close()
        engine.dispose()


def test_script_location_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    copy = tmp_path / "migrations"
    shutil.copytree(migrate.script_location(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("HOTLINE_ALEMBIC_DIR", str(copy))
    assert migrate.script_location() == copy
    url = f"sqlite:///{tmp_path / 'h.db'}"
    migrate.upgrade(url)
    assert migrate.current_revisions(url) == migrate.head_revisions()
    monkeypatch.setenv("HOTLINE_ALEMBIC_DIR", str(tmp_path / "nowhere"))
    assert migrate.script_location() != tmp_path / "nowhere"  # falls back to the checkout


def test_ticket_codes_continue_across_the_sequence_migration(pg_url: str) -> None:
    """0017 starts PostgreSQL's code sequence after the counter's last number; its downgrade hands
    the last number back to the counter: no code is ever issued twice either way."""
    from sqlalchemy import text

    from ticketing.db.engine import make_session_factory
    from ticketing.db.repositories import next_sequence

    migrate.upgrade(pg_url, "0016")
    engine = make_engine(pg_url)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            session.execute(text("UPDATE code_sequences SET value = 41 WHERE name = 'ticket'"))
            session.commit()
        migrate.upgrade(pg_url)
        with factory() as session:
            assert next_sequence(session, "ticket") == 42
            assert next_sequence(session, "ticket") == 43
            session.commit()
        migrate.downgrade(pg_url, "0016")
        with factory() as session:  # the counter row holds the last number issued
            assert (
                session.execute(text("SELECT value FROM code_sequences WHERE name = 'ticket'")).scalar() == 43
            )
        migrate.upgrade(pg_url)
        with factory() as session:
            assert next_sequence(session, "ticket") == 44
    finally:
        engine.dispose()
