"""Backups of a hotline: a consistent database copy, the attachment store, pending recordings and the
call journal, with a manifest of SHA-256 hashes; verification; restore into an empty data directory.

Layout of a backup directory::

    manifest.json            what is in it (written last: a backup without it is incomplete)
    database.sqlite3         SQLite: a copy made with the online backup API (readers and writers go on)
    database.pgdump          PostgreSQL: ``pg_dump --format=custom`` (one MVCC snapshot)
    files/attachments/...    the content-addressed attachment store (recordings, photos, evidence)
    files/recordings/...     recordings Asterisk wrote that are not attached yet
    files/journal/...        tickets and messages waiting for the database
    files/dossiers.csv       the local dossier table, when there is one

The database is copied first and the files after: the attachment store is append-only, so every blob
the database copy names is already on disk when the files are copied. Secrets (``secrets.toml``, the
NLU token) are never copied: a restored hotline generates new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.private_files import private_dir, tighten
from config.settings import Settings
from ticketing.db.ops import redacted_url

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
STATE_FILE = "last-backup.json"  # in <data_dir>/run: what `hotline db upgrade` checks
_CHUNK = 1 << 20

Progress = Callable[[str], None]


class BackupError(RuntimeError):
    """A backup could not be made, verified or restored; the message says why."""


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the backup directory, "/"-separated
    sha256: str
    size: int


@dataclass
class Manifest:
    created_at: str
    backend: str  # "sqlite" | "postgresql"
    database_file: str
    revisions: list[str]
    files: list[FileEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    format: int = FORMAT

    def to_json(self) -> str:
        data = {
            "format": self.format,
            "created_at": self.created_at,
            "backend": self.backend,
            "database_file": self.database_file,
            "revisions": self.revisions,
            "counts": self.counts,
            "files": [e.__dict__ for e in self.files],
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def load(cls, backup_dir: Path) -> Manifest:
        path = backup_dir / MANIFEST
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("format") != FORMAT:
                raise BackupError(f"{path}: unsupported backup format {data.get('format')!r}")
            return cls(
                created_at=str(data["created_at"]),
                backend=str(data["backend"]),
                database_file=str(data["database_file"]),
                revisions=[str(r) for r in data["revisions"]],
                files=[FileEntry(str(f["path"]), str(f["sha256"]), int(f["size"])) for f in data["files"]],
                counts={str(k): int(v) for k, v in data.get("counts", {}).items()},
            )
        except FileNotFoundError:
            raise BackupError(f"{backup_dir} is not a complete backup ({MANIFEST} is missing)") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{path}: unreadable manifest ({exc})") from exc


def _noop(_: str) -> None:
    pass


# -- hashing and copying ---------------------------------------------------------------------------


def sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` (owner-only), hashing the bytes written; fsynced."""
    private_dir(dst.parent)
    h = hashlib.sha256()
    size = 0
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
        while chunk := inp.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return h.hexdigest(), size


def _walk_files(root: Path) -> Iterator[Path]:
    """Regular files under ``root`` in a stable order, skipping temporary files of the stores."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.startswith((".tmp-", ".")):
                continue
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


# -- PostgreSQL tools ------------------------------------------------------------------------------


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """``--dbname=...`` for pg_dump/pg_restore and an environment with the password (never on argv)."""
    from ticketing.db.ops import libpq_url

    plain, password = libpq_url(url)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    return [f"--dbname={plain}"], env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found; install the PostgreSQL client (apt-get install postgresql-client)"
        )
    return found


def _run_pg(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or "").splitlines() if ln.strip()]
        raise BackupError(f"{what} failed: {lines[-1] if lines else f'exit status {done.returncode}'}")


# -- database --------------------------------------------------------------------------------------


def _sqlite_file(settings: Settings) -> Path:
    from ticketing.db.engine import sqlite_path

    path = sqlite_path(settings.database_url)
    if path is None:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return path


def _backup_sqlite(src: Path, dst: Path) -> None:
    if not src.is_file():
        raise BackupError(f"database not found: {src}")
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        target = sqlite3.connect(dst)
        try:
            source.backup(target)  # one consistent snapshot while the hotline keeps writing
            target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        source.close()


def _sqlite_counts(path: Path) -> tuple[list[str], dict[str, int]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        revisions = (
            [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
            if "alembic_version" in tables
            else []
        )
        counts = {
            t: int(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0])
            for t in ("tickets", "ticket_events", "attachments", "audit_log", "calls", "outbox")
            if t in tables
        }
        return revisions, counts
    finally:
        conn.close()


def _current_revisions(url: str) -> list[str]:
    from ticketing.db import migrate

    return list(migrate.current_revisions(url))


# -- create ----------------------------------------------------------------------------------------


def data_files(settings: Settings, recordings: Path | None) -> dict[str, Path]:
    """What is backed up besides the database: name in the backup -> host path (file or folder)."""
    out: dict[str, Path] = {
        "attachments": settings.attachments_dir,
        "journal": settings.data_dir / "journal",
        "dossiers.csv": settings.data_dir / "dossiers.csv",
    }
    if recordings is not None:
        out["recordings"] = recordings
    return out


def create_backup(
    settings: Settings,
    target: Path,
    *,
    recordings: Path | None = None,
    progress: Progress = _noop,
    now: datetime | None = None,
) -> Manifest:
    """Back up the configured hotline into ``target`` (a new or empty folder)."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty folder; choose a new backup folder")
    private_dir(target)
    url = settings.database_url
    from ticketing.db.engine import is_sqlite

    created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    if is_sqlite(url):
        db_file = SQLITE_FILE
        progress(f"database: SQLite online backup of {_sqlite_file(settings)}")
        _backup_sqlite(_sqlite_file(settings), target / db_file)
        revisions, counts = _sqlite_counts(target / db_file)
        backend = "sqlite"
    else:
        db_file = PG_FILE
        progress("database: pg_dump (custom format)")
        args, env = _libpq(url)
        _run_pg(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(target / db_file),
                *args,
            ],
            env,
            "pg_dump",
        )
        tighten(target / db_file)
        revisions, counts, backend = _current_revisions(url), {}, "postgresql"
    digest, size = sha256_file(target / db_file)
    manifest = Manifest(created, backend, db_file, revisions, [FileEntry(db_file, digest, size)], counts)
    for name, src in data_files(settings, recordings).items():
        if src.is_file():
            rel = f"files/{name}"
            manifest.files.append(FileEntry(rel, *_copy_hashed(src, target / rel)))
        elif src.is_dir():
            copied = 0
            for path in _walk_files(src):
                rel = f"files/{name}/{path.relative_to(src).as_posix()}"
                manifest.files.append(FileEntry(rel, *_copy_hashed(path, target / rel)))
                copied += 1
            progress(f"{name}: {copied} files")
    (target / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    tighten(target / MANIFEST)
    record_backup(settings, target, manifest)
    return manifest


def record_backup(settings: Settings, target: Path, manifest: Manifest) -> None:
    """Note the backup in ``<data_dir>/run/last-backup.json`` (read by ``hotline db upgrade``)."""
    state = private_dir(settings.data_dir / "run") / STATE_FILE
    data = {
        "at": manifest.created_at,
        "path": str(Path(target).resolve()),
        "database": redacted_url(settings.database_url),
        "revisions": manifest.revisions,
    }
    state.write_text(json.dumps(data) + "\n", encoding="utf-8")


def last_backup(settings: Settings) -> dict[str, Any] | None:
    path = settings.data_dir / "run" / STATE_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def fresh_backup(settings: Settings, revisions: list[str], max_age: timedelta, now: datetime) -> str | None:
    """None when a backup of this database at these revisions was taken within ``max_age``; else why not."""
    state = last_backup(settings)
    if state is None:
        return "no backup of this data directory is recorded"
    redacted = redacted_url(settings.database_url)
    if state.get("database") != redacted:
        return "the last backup is of another database"
    try:
        at = datetime.fromisoformat(str(state["at"]))
    except (KeyError, ValueError):
        return "the backup record is unreadable"
    if now - at > max_age:
        return f"the last backup ({at:%Y-%m-%d %H:%M} UTC) is older than {max_age}"
    if sorted(state.get("revisions") or []) != sorted(revisions):
        return "the database was migrated after the last backup"
    if not (Path(str(state.get("path", ""))) / MANIFEST).is_file():
        return f"the last backup ({state.get('path')}) is no longer there"
    return None


# -- verify ----------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    manifest: Manifest
    problems: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_backup(backup_dir: Path) -> VerifyReport:
    """Check every file's hash, the attachment store's names, and the database copy itself."""
    backup_dir = Path(backup_dir)
    manifest = Manifest.load(backup_dir)
    report = VerifyReport(manifest)
    for entry in manifest.files:
        path = backup_dir / entry.path
        if ".." in Path(entry.path).parts or Path(entry.path).is_absolute():
            report.problems.append(f"{entry.path}: unsafe path in the manifest")
            continue
        if not path.is_file():
            report.problems.append(f"{entry.path}: missing")
            continue
        digest, size = sha256_file(path)
        report.checked += 1
        if (digest, size) != (entry.sha256, entry.size):
            report.problems.append(f"{entry.path}: hash or size differs from the manifest (corrupted)")
        if entry.path.startswith("files/attachments/") and Path(entry.path).name != entry.sha256:
            report.problems.append(f"{entry.path}: content does not match its name in the attachment store")
    db = backup_dir / manifest.database_file
    if db.is_file():
        if manifest.backend == "sqlite":
            _verify_sqlite(db, manifest, report)
        else:
            args = [_pg_tool("pg_restore"), "--list", str(db)]
            try:
                _run_pg(args, dict(os.environ), "pg_restore --list")
            except BackupError as exc:
                report.problems.append(str(exc))
    return report


def _verify_sqlite(db: Path, manifest: Manifest, report: VerifyReport) -> None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                report.problems.append(f"{manifest.database_file}: integrity check: {result}")
            blobs = {e.sha256 for e in manifest.files if e.path.startswith("files/attachments/")}
            for (sha,) in conn.execute("SELECT DISTINCT sha256 FROM attachments"):
                if sha not in blobs:
                    report.problems.append(f"attachment {sha} is named by the database but not in the backup")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        report.problems.append(f"{manifest.database_file}: {exc}")


# -- restore ---------------------------------------------------------------------------------------


def _pg_is_empty(url: str) -> bool:
    from ticketing.db.ops import has_tables

    return not has_tables(url)


def restore_backup(
    backup_dir: Path,
    settings: Settings,
    *,
    recordings: Path | None = None,
    progress: Progress = _noop,
) -> Manifest:
    """Restore ``backup_dir`` into the configured, EMPTY data directory (and empty PostgreSQL database).

    The backup is verified first; nothing is written if it is damaged.
    """
    from ticketing.db.engine import is_sqlite

    backup_dir = Path(backup_dir)
    report = verify_backup(backup_dir)
    if not report.ok:
        raise BackupError("the backup is damaged: " + "; ".join(report.problems[:5]))
    manifest = report.manifest
    data_dir = Path(settings.data_dir)
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(f"the data directory {data_dir} is not empty; restore only into an empty one")
    url = settings.database_url
    target_sqlite = is_sqlite(url)
    if manifest.backend == "sqlite" and not target_sqlite:
        raise BackupError("this is a SQLite backup; unset HOTLINE_DATABASE__URL to restore it to SQLite")
    if manifest.backend == "postgresql":
        if target_sqlite:
            raise BackupError(
                "this is a PostgreSQL backup; set HOTLINE_DATABASE__URL to an empty PostgreSQL database"
            )
        if not _pg_is_empty(url):
            raise BackupError("the PostgreSQL database is not empty; restore only into an empty one")
    private_dir(data_dir)
    if target_sqlite:
        dst = _sqlite_file(settings)
        if dst.exists():
            raise BackupError(f"{dst} exists; restore only into an empty data directory")
        private_dir(dst.parent)
        _copy_hashed(backup_dir / manifest.database_file, dst)
        progress(f"database: {dst}")
    else:
        args, env = _libpq(url)
        _run_pg(
            [
                _pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                *args,
                str(backup_dir / manifest.database_file),
            ],
            env,
            "pg_restore",
        )
        progress("database: restored with pg_restore")
    places = data_files(settings, recordings)
    for entry in manifest.files:
        if not entry.path.startswith("files/"):
            continue
        name, _, rest = entry.path.removeprefix("files/").partition("/")
        base = places.get(name)
        if base is None:
            progress(f"{entry.path}: no place for it here; left in the backup")
            continue
        dst = base / rest if rest else base
        if dst.exists():
            if dst.is_file() and sha256_file(dst)[0] == entry.sha256:
                continue  # e.g. a recording already in a shared Asterisk spool
            if name == "recordings" and dst.is_file():
                # Asterisk's spool is outside the data directory; a recording there was still being
                # written when the backup was taken: the file on disk is the more complete one
                progress(f"{dst}: kept the recording already there")
                continue
            raise BackupError(f"{dst} exists with other content; restore only into an empty data directory")
        digest, _ = _copy_hashed(backup_dir / entry.path, dst)
        if digest != entry.sha256:
            raise BackupError(f"{entry.path} changed while it was restored")
    progress(f"files: {sum(1 for e in manifest.files if e.path.startswith('files/'))}")
    return manifest


def summary(manifest: Manifest) -> Mapping[str, Any]:
    return {
        "created_at": manifest.created_at,
        "backend": manifest.backend,
        "revisions": manifest.revisions,
        "files": len(manifest.files),
        "bytes": sum(e.size for e in manifest.files),
        "counts": manifest.counts,
    }
