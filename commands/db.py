"""``hotline db``: database migrations, and what every ticket command shares.

:func:`services` is this command's composition root (:func:`wiring.build`) over the configured
database (SQLite in the data directory by default, PostgreSQL via ``HOTLINE_DATABASE__URL``), after
checking that the database exists and is migrated; it is closed with the command.
:func:`user_errors` turns domain, SLA, attachment and storage errors into one-line
:class:`~commands.errors.UserError` messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import click

import wiring
from commands.errors import UserError
from commands.errors import load_settings as settings
from config.settings import Settings, SettingsError
from ticketing.attachments import AttachmentError
from ticketing.db.errors import storage_errors
from ticketing.domain.errors import DomainError
from ticketing.domain.sla import SlaError
from ticketing.errors import ConcurrentChange, StorageConflict, StorageError, StorageUnavailable
from ticketing.service import AdminService, TicketService

actor_option = click.option(
    "--actor",
    default=lambda: os.environ.get("USER") or "cli",
    show_default="$USER",
    help="Who makes the change (recorded in the history and the audit log).",
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def user_errors() -> Iterator[None]:
    """Report refused operations and unreachable databases in one line (exit 1), never a traceback."""
    try:
        with storage_errors():
            yield
    except UserError:
        raise
    except (DomainError, SlaError, AttachmentError) as exc:
        raise UserError(str(exc)) from exc
    except (SettingsError, ValueError) as exc:
        raise UserError(f"{_first_line(exc)}") from exc
    except StorageUnavailable as exc:
        raise UserError(
            f"cơ sở dữ liệu không truy cập được / database unreachable: {_first_line(exc)}"
        ) from exc
    except ConcurrentChange as exc:
        raise UserError(
            "phiếu vừa được người khác thay đổi, hãy thử lại / the record was changed concurrently; try again"
        ) from exc
    except StorageConflict as exc:
        raise UserError(f"dữ liệu xung đột / conflicting data: {_first_line(exc)}") from exc
    except StorageError as exc:
        raise UserError(f"lỗi cơ sở dữ liệu / database error: {_first_line(exc)}") from exc


def _redacted(url: str) -> str:
    from ticketing.db.engine import redacted_url

    return redacted_url(url)


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


def services(database: bool = True) -> wiring.Services:
    """This command's services (one :func:`wiring.build` per command, closed with it); with
    ``database`` the configured database must exist and be migrated."""
    ctx = click.get_current_context(silent=True)
    meta: dict[str, Any] = ctx.meta if ctx is not None else {}
    root = meta.get("hotline.services")
    if root is None:
        root = wiring.build(settings())
        if ctx is not None:
            meta["hotline.services"] = root
            ctx.call_on_close(root.close)
    if database and not meta.get("hotline.database-checked"):
        require_database(root.settings.database_url)
        meta["hotline.database-checked"] = True
    return root


def ticket_service() -> TicketService:
    """The ticket service over the configured database and attachment store (with its notifier)."""
    return services().tickets


def admin_service() -> AdminService:
    return services().admin


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
            with storage_errors():
                migrate.upgrade(url, revision)
                current = migrate.current_revisions(url)
        except migrate.MigrationsNotFound as exc:
            raise UserError(f"không tìm thấy các tệp migration / {exc}") from exc
        except StorageError:
            raise
        except Exception as exc:  # alembic CommandError (unknown revision)
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
