"""``hotline backup``: create, verify and restore backups (:mod:`ops.backup`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from commands.db import user_errors
from commands.errors import UserError
from commands.errors import load_settings as settings
from config.settings import Settings
from ops.backup import BackupError, create_backup, restore_backup, summary, verify_backup


def recordings_dir(s: Settings) -> Path | None:
    """Where this hotline's Asterisk writes call recordings (host path), if it can be told."""
    from pbx.install import InstallError, layout

    try:
        lay = layout(s)
    except InstallError:
        return None
    return lay.to_host(lay.recordings_dir)


def restore_recordings_dir(s: Settings) -> Path | None:
    """Where restored recordings go: Asterisk's spool when its root is installed (or a system
    Asterisk); else ``<data_dir>/restored-recordings``, since installing the root later replaces
    whatever is in its folder."""
    from pbx.install import InstallError, is_installed, layout

    try:
        lay = layout(s)
    except InstallError:
        return s.data_dir / "restored-recordings"
    if lay.kind == "chroot" and not is_installed(lay.root):
        return s.data_dir / "restored-recordings"
    return lay.to_host(lay.recordings_dir)


@click.group("backup")
def backup_group() -> None:
    """Back up the hotline (database, attachments, recordings, journal), check and restore backups.

    \b
    Examples:
      hotline backup create /srv/backups/hotline-$(date +%F)
      hotline backup verify /srv/backups/hotline-2026-12-06
      HOTLINE_DATA_DIR=/srv/hotline-new hotline backup restore /srv/backups/hotline-2026-12-06
    """


@backup_group.command("create")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def create_cmd(directory: Path, as_json: bool) -> None:
    """Back up into DIRECTORY (new or empty): a consistent copy of the database (SQLite online
    backup, or pg_dump), the attachment store, pending recordings and the journal, with a manifest of
    SHA-256 hashes. Safe while calls are in progress. Secrets are not copied.

    \b
    Example:
      hotline backup create /srv/backups/hotline-$(date +%F)
    """
    s = settings()
    say = (lambda _m: None) if as_json else click.echo
    with user_errors():
        try:
            manifest = create_backup(s, directory, recordings=recordings_dir(s), progress=say)
        except BackupError as exc:
            raise UserError(f"sao lưu thất bại / backup failed: {exc}") from exc
    info = summary(manifest)
    if as_json:
        click.echo(json.dumps({"path": str(directory), **info}, ensure_ascii=False))
    else:
        click.echo(f"backup written to {directory}: {info['files']} files, {info['bytes']} bytes")


@backup_group.command("verify")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
def verify_cmd(directory: Path) -> None:
    """Check a backup: every file against its SHA-256 in the manifest, the attachment names, and the
    database copy (SQLite integrity check; pg_restore --list). Exit 1 when anything is wrong.

    \b
    Example:
      hotline backup verify /srv/backups/hotline-2026-12-06
    """
    try:
        report = verify_backup(directory)
    except BackupError as exc:
        raise UserError(str(exc)) from exc
    for problem in report.problems:
        click.echo(f"BAD  {problem}", err=True)
    if not report.ok:
        raise UserError(f"bản sao lưu bị hỏng / the backup is damaged ({len(report.problems)} problems)")
    click.echo(
        f"backup OK: {report.checked} files checked ({report.manifest.backend}, {report.manifest.created_at})"
    )


@backup_group.command("restore")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
def restore_cmd(directory: Path) -> None:
    """Restore a backup into the configured data directory, which must be empty (or not exist yet);
    a PostgreSQL backup goes into the configured, empty PostgreSQL database. The backup is verified
    first and nothing is written if it is damaged.

    \b
    Example:
      HOTLINE_DATA_DIR=/srv/hotline-new hotline backup restore /srv/backups/hotline-2026-12-06
    """
    s = settings()
    with user_errors():
        try:
            manifest = restore_backup(directory, s, recordings=restore_recordings_dir(s), progress=click.echo)
        except BackupError as exc:
            raise UserError(f"khôi phục thất bại / restore failed: {exc}") from exc
    click.echo(f"restored the backup of {manifest.created_at} into {s.data_dir}")
