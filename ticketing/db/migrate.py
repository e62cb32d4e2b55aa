"""Run the Alembic migrations programmatically (``hotline db upgrade`` / ``db current``).

The migration scripts live in ``alembic/`` at the repository root. They are found, in order, at
``$HOTLINE_ALEMBIC_DIR``, beside the installed sources (an editable install or a checkout), and in
the current directory; the first folder holding ``env.py`` and ``versions/`` wins.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from ticketing.db.engine import make_engine

ALEMBIC_DIR_ENV = "HOTLINE_ALEMBIC_DIR"


class MigrationsNotFound(RuntimeError):
    """The ``alembic/`` folder with the migration scripts could not be located."""


def _candidates() -> list[Path]:
    out: list[Path] = []
    env = os.environ.get(ALEMBIC_DIR_ENV)
    if env:
        out.append(Path(env))
    package_root = Path(__file__).resolve().parents[2]  # <root>/ticketing/db/migrate.py -> <root>
    out.append(package_root / "alembic")
    out.append(Path.cwd() / "alembic")
    return out


def script_location() -> Path:
    for path in _candidates():
        if (path / "env.py").is_file() and (path / "versions").is_dir():
            return path
    tried = ", ".join(str(p) for p in _candidates())
    raise MigrationsNotFound(f"migration scripts not found (tried {tried}); set {ALEMBIC_DIR_ENV}")


def alembic_config(url: str) -> Config:
    location = script_location()
    ini = location.parent / "alembic.ini"
    cfg = Config(str(ini)) if ini.is_file() else Config()
    cfg.set_main_option("script_location", str(location))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(url: str) -> tuple[str, ...]:
    """Revisions the database is at (empty when it was never migrated). Does not create anything."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
