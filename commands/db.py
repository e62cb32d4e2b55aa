"""``hotline db``: database migrations, and the wiring every ticket command shares.

:func:`ticket_service` and :func:`admin_service` build the services over the configured database
(SQLite in the data directory by default, PostgreSQL via ``HOTLINE_DATABASE__URL``) after checking
that the database exists and is migrated. :func:`user_errors` turns domain, SLA, attachment and
database errors into one-line :class:`~commands.errors.UserError` messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from commands.errors import UserError
from config.settings import Settings, SettingsError, get_settings
from ticketing.attachments import AttachmentError, FileAttachmentStore
from ticketing.domain.errors import DomainError
from ticketing.domain.sla import SlaError
from ticketing.ports import SystemClock
from ticketing.service import AdminService, TicketService

actor_option = click.option(
    "--actor",
    default=lambda: os.environ.get("USER") or "cli",
    show_default="$USER",
    help="Who makes the change (recorded in the history and the audit log).",
)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def user_errors() -> Iterator[None]:
    """Report refused operations and unreachable databases in one line (exit 1), never a traceback."""
    try:
        yield
    except UserError:
        raise
    except (DomainError, SlaError, AttachmentError) as exc:
        raise UserError(str(exc)) from exc
    except (SettingsError, ValueError) as exc:
        raise UserError(f"{_first_line(exc)}") from exc
    except OperationalError as exc:
        raise UserError(
            f"cơ sở dữ liệu không truy cập được / database unreachable: {_first_line(exc)}"
        ) from exc
    except StaleDataError as exc:
        raise UserError(
            "phiếu vừa được người khác thay đổi, hãy thử lại / the record was changed concurrently; try again"
        ) from exc
    except IntegrityError as exc:
        raise UserError(f"dữ liệu xung đột / conflicting data: {_first_line(exc)}") from exc
    except SQLAlchemyError as exc:
        raise UserError(f"lỗi cơ sở dữ liệu / database error: {_first_line(exc)}") from exc


def settings() -> Settings:
    with user_errors():
        return get_settings()


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def require_database_file(url: str) -> None:
    """Refuse a SQLite URL whose file does not exist (never create a database by accident)."""
    from ticketing.db.engine import sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise UserError(
            f"cơ sở dữ liệu chưa được tạo: {path}; chạy 'hotline db upgrade' / "
            f"database not found: {path}; run 'hotline db upgrade'"
        )


def require_database(url: str) -> None:
    """Refuse to work on a missing or unmigrated database (and never create one by accident)."""
    from ticketing.db import migrate

    require_database_file(url)
    with user_errors():
        current = set(migrate.current_revisions(url))
        heads = set(migrate.head_revisions())
    if current != heads:
        have = ", ".join(sorted(current)) or "trống / empty"
        raise UserError(
            f"cơ sở dữ liệu chưa được nâng cấp (đang ở {have}); chạy 'hotline db upgrade' / "
            f"database schema is not up to date; run 'hotline db upgrade'"
        )


def _uow_factory() -> Any:
    from ticketing.db.engine import make_engine, make_session_factory
    from ticketing.db.repositories import SqlUnitOfWork

    s = settings()
    url = s.database_url
    require_database(url)
    engine = make_engine(url, echo=s.database.echo)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(engine.dispose)
    factory = make_session_factory(engine)
    return lambda: SqlUnitOfWork(factory)


def ticket_service() -> TicketService:
    """The ticket service over the configured database and attachment store."""
    from commands.scheduler import notifier
    from ticketing.calendar_config import calendar_for, preset_for

    s = settings()
    uow = _uow_factory()
    return TicketService(
        uow,
        FileAttachmentStore(s.attachments_dir),
        SystemClock(),
        lambda city: calendar_for(city, s),
        lambda city: preset_for(city, s),
        city=s.city,
        on_change=[notifier(s)],
    )


def admin_service() -> AdminService:
    s = settings()
    return AdminService(_uow_factory(), SystemClock(), city=s.city)


@click.group("db")
def db_group() -> None:
    """Database schema: create and upgrade it (Alembic migrations), show its revision."""


@db_group.command(
    "upgrade",
    epilog=(
        "\b\nExamples:\n  hotline db upgrade\n"
        "  HOTLINE_DATABASE__URL=postgresql+psycopg://hotline@127.0.0.1/hotline hotline db upgrade"
    ),
)
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.option(
    "--agencies/--no-agencies",
    default=True,
    show_default=True,
    help="Also import the shipped agencies of the configured city (as 'hotline agencies import').",
)
@click.option(
    "--no-backup-check",
    is_flag=True,
    help="Migrate even without a fresh backup (`hotline backup create`) of a database holding data.",
)
@click.option(
    "--backup-max-age",
    type=click.FloatRange(min=0),
    default=24.0,
    show_default=True,
    help="Hours within which the last backup counts as fresh.",
)
def upgrade_cmd(revision: str, agencies: bool, no_backup_check: bool, backup_max_age: float) -> None:
    """Create the database (SQLite: in the data directory) or upgrade it to the latest schema, and
    load the configured city's agencies so tickets can be dispatched at once.

    Idempotent: an up-to-date database is left as it is; agency contacts already set are kept.
    Migrating a database that already holds a schema needs a fresh backup (`hotline backup create`,
    taken within --backup-max-age hours at the current revision) unless --no-backup-check is given;
    a new, empty database needs none.
    """
    from ticketing.db import migrate

    s = settings()
    url = s.database_url
    if not no_backup_check:
        _require_fresh_backup(s, revision, timedelta(hours=backup_max_age))
    with user_errors():
        try:
            migrate.upgrade(url, revision)
            current = migrate.current_revisions(url)
        except migrate.MigrationsNotFound as exc:
            raise UserError(f"không tìm thấy các tệp migration / {exc}") from exc
        except Exception as exc:  # alembic CommandError (unknown revision) and driver errors
            if isinstance(exc, SQLAlchemyError):
                raise
            raise UserError(f"nâng cấp thất bại / upgrade failed: {_first_line(exc)}") from exc
        s.attachments_dir.mkdir(parents=True, exist_ok=True)
    click.echo(f"{_redacted(url)}: {', '.join(current) or '-'}")
    if agencies and revision == "head":
        with user_errors():
            inserted, updated = admin_service().import_agencies(s.city, "hotline-db-upgrade")
        click.echo(f"agencies ({s.city}): {inserted} added, {updated} updated")


def _require_fresh_backup(s: Settings, revision: str, max_age: timedelta) -> None:
    """Refuse to migrate a database holding a schema without a fresh backup of it."""
    from ops.backup import fresh_backup
    from ticketing.db import migrate
    from ticketing.db.engine import sqlite_path

    url = s.database_url
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return  # a new database: nothing to lose
    with user_errors():
        current = list(migrate.current_revisions(url))
        heads = list(migrate.head_revisions())
    if not current:
        return  # never migrated: empty
    if sorted(current) == sorted(heads if revision == "head" else [revision]):
        return  # nothing to do
    why = fresh_backup(s, current, max_age, datetime.now(UTC))
    if why is not None:
        raise UserError(
            f"chưa có bản sao lưu mới, không nâng cấp / refusing to migrate without a fresh backup: {why}; "
            "run 'hotline backup create DIR' first (or pass --no-backup-check)"
        )


@db_group.command("current", epilog="\b\nExample:\n  hotline db current")
def current_cmd() -> None:
    """Show the database URL (password hidden), its revision and the latest one."""
    from ticketing.db import migrate

    url = settings().database_url
    require_database_file(url)
    with user_errors():
        current = migrate.current_revisions(url)
        heads = migrate.head_revisions()
    click.echo(f"database: {_redacted(url)}")
    click.echo(f"current:  {', '.join(current) or '-'}")
    click.echo(f"head:     {', '.join(heads)}")
    click.echo("up to date" if set(current) == set(heads) else "needs 'hotline db upgrade'")
