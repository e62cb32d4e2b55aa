"""``hotline backup create / verify / restore`` through the CLI on SQLite and the real PostgreSQL, and
``hotline db upgrade``'s refusal to migrate a database holding data without a fresh backup.

The contract: ``hotline backup create DIR`` then ``HOTLINE_DATA_DIR=EMPTY hotline backup restore DIR``
gives the same ``hotline tickets show CODE --json`` (code, status, history, attachment hashes)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_SERVER_URL, _libpq_dsn
from tests.test_cli_tickets import REPORT, Hotline
from ticketing.db import migrate


@pytest.fixture
def pg_empty() -> Iterator[Any]:
    """A factory of empty databases on the real PostgreSQL server (dropped at the end)."""
    names: list[str] = []
    admin = _libpq_dsn(PG_SERVER_URL, "postgres")

    def make() -> str:
        name = f"hotline_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        url = make_url(PG_SERVER_URL).set(drivername="postgresql+psycopg", database=name)
        return url.render_as_string(hide_password=False)

    yield make
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


AUDIT = "SELECT id, at, actor, entity, entity_id, action, before, after FROM audit_log ORDER BY id"
ATTACHMENTS = "SELECT id, ticket_id, sha256, kind, filename, size FROM attachments ORDER BY id"


def populate(h: Hotline, tmp_path: Path) -> list[str]:
    """Three tickets in different states, one with two attachments."""
    first = h.create()
    second = h.create({**REPORT, "content": "Đèn đường hỏng ở ngõ 7 Thái Hà"})
    third = h.create({**REPORT, "content": "Nước ngập đường Láng"})
    h("tickets", "dispatch", first, "--actor", "dieu-phoi")
    h("tickets", "accept", first, "--actor", "ubnd-hk")
    photo = tmp_path / "anh.jpg"
    photo.write_bytes(b"\xff\xd8 jpeg " + uuid.uuid4().bytes)
    h("tickets", "attach", first, str(photo), "--kind", "photo", "--actor", "dieu-phoi")
    rec = tmp_path / "ghi-am.wav"
    rec.write_bytes(b"RIFF" + bytes(range(256)) * 64)
    h("tickets", "attach", first, str(rec), "--kind", "recording", "--actor", "ai-bot")
    h("tickets", "dispatch", second, "--actor", "dieu-phoi")
    return [first, second, third]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_backup_restore_round_trip(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    restored_env = {**env, "HOTLINE_DATA_DIR": str(tmp_path / "restored")}
    if backend == "postgresql":
        make = request.getfixturevalue("pg_empty")
        env["HOTLINE_DATABASE__URL"] = make()
        restored_env["HOTLINE_DATABASE__URL"] = make()
    h = Hotline(env, tmp_path)
    h("db", "upgrade")
    codes = populate(h, tmp_path)
    (tmp_path / "var" / "dossiers.csv").write_text("code,status\nH1,Đang xử lý\n", encoding="utf-8")
    out = h("backup", "create", str(tmp_path / "bk"), "--json").stdout
    info = json.loads(out)
    assert info["backend"] == backend and info["files"] >= 4
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert any(f["path"].startswith("files/attachments/") for f in manifest["files"])
    assert "backup OK" in h("backup", "verify", str(tmp_path / "bk")).stdout
    assert not any("secrets" in f["path"] for f in manifest["files"])

    r = Hotline(restored_env, tmp_path)
    assert "restored the backup" in r("backup", "restore", str(tmp_path / "bk")).stdout
    for code in codes:
        original = json.loads(h("tickets", "show", code, "--json", "--show-personal").stdout)
        again = json.loads(r("tickets", "show", code, "--json", "--show-personal").stdout)
        assert again == original
        assert again["code"] == code and len(again["history"]) == len(original["history"])
    att = json.loads(r("tickets", "show", codes[0], "--json").stdout)["attachments"]
    assert len(att) == 2
    old_url = h.env["HOTLINE_DATABASE__URL"] or f"sqlite:///{tmp_path / 'var' / 'hotline.db'}"
    new_url = r.env["HOTLINE_DATABASE__URL"] or f"sqlite:///{tmp_path / 'restored' / 'hotline.db'}"
    assert rows(new_url, AUDIT) == rows(old_url, AUDIT) and rows(old_url, AUDIT)
    assert rows(new_url, ATTACHMENTS) == rows(old_url, ATTACHMENTS)
    for a in att:  # the blobs are there and readable (hash-checked on read)
        sha = a["sha256"]
        blob = tmp_path / "restored" / "attachments" / sha[:2] / sha[2:4] / sha
        assert blob.is_file()
        r("tickets", "show", codes[0])
    assert (tmp_path / "restored" / "dossiers.csv").read_text(encoding="utf-8").startswith("code,status")
    # the restored hotline keeps working: a new ticket gets the next code
    fourth = r.create()
    assert fourth not in codes
    # and the restored database is at head: no upgrade needed
    assert "up to date" in r("db", "current").stdout


def test_restore_refuses_a_non_empty_data_dir_and_writes_nothing(tmp_path: Path) -> None:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    h = Hotline(env, tmp_path)
    h("db", "upgrade", "--no-agencies")
    h.create()
    h("backup", "create", str(tmp_path / "bk"))
    # into the live data directory
    assert "not empty" in h.fails("backup", "restore", str(tmp_path / "bk"))
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("giữ nguyên")
    r = Hotline({**env, "HOTLINE_DATA_DIR": str(other)}, tmp_path)
    assert "not empty" in r.fails("backup", "restore", str(tmp_path / "bk"))
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    # a backup folder that is not empty is refused too
    assert "not an empty folder" in h.fails("backup", "create", str(tmp_path / "bk"))


def test_verify_finds_a_corrupted_file_and_restore_refuses_it(tmp_path: Path) -> None:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    h = Hotline(env, tmp_path)
    h("db", "upgrade", "--no-agencies")
    code = h.create()
    photo = tmp_path / "anh.jpg"
    photo.write_bytes(b"\xff\xd8 jpeg evidence")
    h("tickets", "attach", code, str(photo), "--kind", "photo")
    bk = tmp_path / "bk"
    h("backup", "create", str(bk))
    [blob] = [p for p in (bk / "files" / "attachments").rglob("*") if p.is_file()]
    blob.write_bytes(b"\xff\xd8 jpeg evidencE")
    result = h("backup", "verify", str(bk), ok=False)
    assert result.exit_code == 1 and "BAD" in result.stderr and blob.name in result.stderr
    r = Hotline({**env, "HOTLINE_DATA_DIR": str(tmp_path / "new")}, tmp_path)
    assert "damaged" in r.fails("backup", "restore", str(bk))
    assert not (tmp_path / "new").exists()
    (bk / "manifest.json").unlink()
    assert "manifest.json is missing" in h.fails("backup", "verify", str(bk))


# -- upgrades --------------------------------------------------------------------------------------


@contextmanager
def _columns_added_since(url: str) -> Iterator[None]:
    """Seed an old schema with today's code: the ticket-table columns added by later migrations are
    added (nullable) for the time of the block and dropped after it, so the database left behind has
    exactly the old revision's tables, holding rows written by the current service. On PostgreSQL the
    tracking-code sequence (0017) is there for the block too; after it, its last number goes back
    into the old counter row, as the counter alone would have numbered those tickets."""
    import ticketing.db.models  # noqa: F401  (the ticket tables on the metadata)
    from ticketing.db.base import Base
    from ticketing.db.models import TICKET_CODE_SEQUENCE

    engine = create_engine(url)
    added: list[tuple[str, str]] = []
    sequence = engine.dialect.name == "postgresql"
    try:
        with engine.begin() as conn:
            existing = inspect(conn)
            for table in Base.metadata.sorted_tables:
                if not existing.has_table(table.name):
                    continue
                have = {c["name"] for c in existing.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in have:
                        kind = column.type.compile(dialect=conn.dialect)
                        conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
                        added.append((table.name, column.name))
            if sequence:
                conn.execute(text(f"CREATE SEQUENCE {TICKET_CODE_SEQUENCE.name}"))
        yield
    finally:
        with engine.begin() as conn:
            for table_name, column_name in added:
                conn.execute(text(f"ALTER TABLE {table_name} DROP COLUMN {column_name}"))
            if sequence:
                name = TICKET_CODE_SEQUENCE.name
                last = conn.execute(text(f"SELECT last_value FROM {name} WHERE is_called")).scalar()
                if last:
                    conn.execute(text("DELETE FROM code_sequences WHERE name = 'ticket'"))
                    conn.execute(
                        text("INSERT INTO code_sequences (name, value) VALUES ('ticket', :v)"), {"v": last}
                    )
                conn.execute(text(f"DROP SEQUENCE {name}"))
        engine.dispose()


def _service_at(url: str, data_dir: Path) -> Any:
    """The ticket service over a database at an old revision (the ticket tables are those of 0001)."""
    from config.settings import Settings
    from ticketing import calendar_config
    from ticketing.attachments import FileAttachmentStore
    from ticketing.db.engine import make_engine, make_session_factory
    from ticketing.db.repositories import SqlUnitOfWork
    from ticketing.ports import SystemClock
    from ticketing.service import TicketService

    s = Settings(data_dir=data_dir)
    factory = make_session_factory(make_engine(url))
    return TicketService(
        lambda: SqlUnitOfWork(factory),
        FileAttachmentStore(data_dir / "attachments"),
        SystemClock(),
        lambda city: calendar_config.calendar_for(city, s),
        lambda city: calendar_config.preset_for(city, s),
        city="hanoi",
    )


def test_upgrade_from_the_first_schema_needs_a_backup_and_loses_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    data = tmp_path / "var"
    url = f"sqlite:///{data / 'hotline.db'}"
    if backend == "postgresql":
        url = request.getfixturevalue("pg_empty")()
    else:
        data.mkdir()
    migrate.upgrade(url, "0001")
    svc = _service_at(url, data)
    codes = []
    with _columns_added_since(url):
        for content in ("Rác thải ở ngõ 5 Hàng Bông", "Đèn đường hỏng ở ngõ 7 Thái Hà"):
            created = svc.create({**REPORT, "content": content}, "ai-bot")
            codes.append(created.ticket.code)
        svc.attach_bytes(codes[0], b"RIFF old recording", "ghi-am.wav", "recording", "ai-bot")
    before = {
        sql: rows(url, sql)
        for sql in (
            AUDIT,
            ATTACHMENTS,
            "SELECT * FROM tickets ORDER BY id",
            "SELECT * FROM ticket_events ORDER BY id",
            "SELECT * FROM code_sequences ORDER BY name",
        )
    }
    env = {"HOTLINE_DATA_DIR": str(data), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": url}
    h = Hotline(env, tmp_path)
    err = h.fails("db", "upgrade")
    assert "fresh backup" in err and "hotline backup create" in err
    assert migrate.current_revisions(url) == ("0001_initial",)  # refused: nothing migrated
    h("backup", "create", str(tmp_path / "bk"))
    h("db", "upgrade")
    assert set(migrate.current_revisions(url)) == set(migrate.head_revisions())
    for sql, old in before.items():  # columns added since 0001 come after the old ones
        assert [row[: len(was)] for row, was in zip(rows(url, sql), old, strict=False)] == old, sql
    for code in codes:
        shown = json.loads(h("tickets", "show", code, "--json").stdout)
        assert shown["code"] == code and shown["status"] == "Mới tạo"
    # the migrated hotline files new tickets after the old ones
    assert h.create() not in codes
    # up to date: nothing to do, no backup needed
    h("db", "upgrade", "--backup-max-age", "0")


def test_upgrade_guard_fresh_database_stale_backup_and_override(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = {"HOTLINE_DATA_DIR": str(data), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    h = Hotline(env, tmp_path)
    # a brand-new database needs no backup (what scripts/setup.sh does on a fresh machine)
    h("db", "upgrade", "--revision", "0001", "--no-agencies")
    url = f"sqlite:///{data / 'hotline.db'}"
    with _columns_added_since(url):
        _service_at(url, data).create(REPORT, "cli")
    h("backup", "create", str(tmp_path / "bk"))
    # a backup older than the allowed age does not count
    assert "older than" in h.fails("db", "upgrade", "--revision", "0002", "--backup-max-age", "0")
    h("db", "upgrade", "--revision", "0002")
    # migrated since the backup: a new one is needed
    assert "migrated after the last backup" in h.fails("db", "upgrade")
    h("db", "upgrade", "--no-backup-check")
    assert set(migrate.current_revisions(url)) == set(migrate.head_revisions())


def test_pending_recordings_are_backed_up_and_restored_outside_an_uninstalled_root(tmp_path: Path) -> None:
    root = tmp_path / "pbx-root"  # an Asterisk root that is not installed
    spool = root / "var" / "spool" / "asterisk-main" / "monitor" / "hotline" / "2026" / "12" / "06"
    spool.mkdir(parents=True)
    (spool / "hotline-main-1796538317.2.wav").write_bytes(b"RIFF pending recording")
    env = {
        "HOTLINE_DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_CITY": "hanoi",
        "HOTLINE_DATABASE__URL": "",
        "HOTLINE_PBX__ASTERISK_ROOT": str(root),
    }
    h = Hotline(env, tmp_path)
    h("db", "upgrade", "--no-agencies")
    h("backup", "create", str(tmp_path / "bk"))
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    [rec] = [f for f in manifest["files"] if f["path"].startswith("files/recordings/")]
    assert rec["path"] == "files/recordings/2026/12/06/hotline-main-1796538317.2.wav"
    fresh = {**env, "HOTLINE_DATA_DIR": str(tmp_path / "new"), "HOTLINE_PBX__ASTERISK_ROOT": ""}
    Hotline(fresh, tmp_path)("backup", "restore", str(tmp_path / "bk"))
    restored = (
        tmp_path / "new" / "restored-recordings" / "2026" / "12" / "06" / "hotline-main-1796538317.2.wav"
    )
    assert restored.read_bytes() == b"RIFF pending recording"
