"""Files holding personal data are owner-only: the real ``hotline`` executable, started with a lax
umask (022), creates its data directory 0700, the SQLite database 0600, attachment folders 0700
and stored files 0400; an older database left world-readable is tightened; the development outbox
(phones, e-mail addresses) is 0600; verbose logs of a ticket creation carry no phone or CCCD."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.private_files import create_private, open_private_binary, private_dir
from ticketing.attachments import FileAttachmentStore
from ticketing.notifications.adapters import FileSender, OutgoingMessage

HOTLINE = Path(sys.executable).with_name("hotline")
PHONE = "0987654321"
CCCD = "001190012345"
REPORT = {
    "channel": "phone",
    "category": "VSMT",
    "priority": "normal",
    "caller": {"name": "Phạm Thị Hoa", "phone": PHONE, "cccd": CCCD, "confidential": True},
    "place": {"address": "Ngõ 5 Hàng Bông", "ward_code": "00070"},
    "content": "Rác thải tồn đọng ở đầu ngõ 5 Hàng Bông ba ngày",
    "incident_time": "2026-03-01T18:30+07:00",
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOTLINE), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.umask(0o022),  # what a login shell usually has
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return {**keep, "HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CONFIG": str(tmp_path / "none.toml")}


def test_cli_creates_database_and_attachments_owner_only(env: dict[str, str], tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert run(env, "db", "upgrade").returncode == 0
    assert mode(var) == 0o700
    assert mode(var / "hotline.db") == 0o600

    created = run(env, "-v", "tickets", "create", "-", stdin=json.dumps(REPORT))
    assert created.returncode == 0, created.stderr
    code = created.stdout.strip().splitlines()[-1]
    evidence = tmp_path / "ghi-am.wav"
    evidence.write_bytes(b"RIFF recording of a caller")
    attached = run(env, "-v", "tickets", "attach", code, str(evidence), "--kind", "recording")
    assert attached.returncode == 0, attached.stderr

    stored = [p for p in (var / "attachments").rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert mode(stored[0]) == 0o400
    folders = [p for p in (var / "attachments").rglob("*") if p.is_dir()] + [var / "attachments"]
    assert {mode(p) for p in folders} == {0o700}
    for side in ("hotline.db-wal", "hotline.db-shm"):
        if (var / side).exists():
            assert mode(var / side) == 0o600

    # Debug logging of the whole flow never shows the caller's phone or citizen ID.
    logs = created.stderr + attached.stderr
    assert "INFO" in logs  # verbose logging was on
    assert PHONE not in logs and CCCD not in logs
    # nor does the default (masked) list
    listed = run(env, "tickets", "list")
    assert PHONE not in listed.stdout and CCCD not in listed.stdout and "Phạm Thị Hoa" not in listed.stdout


def test_an_old_world_readable_database_is_tightened(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "db", "upgrade").returncode == 0
    db = tmp_path / "var" / "hotline.db"
    os.chmod(db, 0o644)
    assert run(env, "tickets", "list").returncode == 0
    assert mode(db) == 0o600


def test_attachment_store_is_private_under_a_lax_umask(tmp_path: Path, lax_umask: None) -> None:
    store = FileAttachmentStore(tmp_path / "attachments")
    blob = store.put_bytes(b"ghi am cuoc goi")
    path = store.path_for(blob.sha256)
    assert mode(path) == 0o400
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert mode(tmp_path / "attachments") == 0o700


def test_file_outbox_is_private_under_a_lax_umask(tmp_path: Path, lax_umask: None) -> None:
    outbox = tmp_path / "outbox" / "sms.jsonl"
    FileSender(outbox).send(OutgoingMessage("sms", PHONE, "", "Ma phieu 000000018", "m-1"))
    assert mode(outbox) == 0o600
    assert mode(outbox.parent) == 0o700
    assert PHONE in outbox.read_text(encoding="utf-8")


def test_private_helpers(tmp_path: Path, lax_umask: None) -> None:
    deep = private_dir(tmp_path / "a" / "b")
    assert mode(tmp_path / "a") == 0o700 and mode(deep) == 0o700
    os.chmod(tmp_path, 0o755)
    before = mode(tmp_path)  # an existing folder (maybe /tmp) is left alone
    private_dir(tmp_path)
    assert mode(tmp_path) == before

    old = tmp_path / "old.log"
    old.write_text("x")
    os.chmod(old, 0o644)
    with open_private_binary(old, "ab") as fh:
        fh.write(b"y")
    assert mode(old) == 0o600 and old.read_text() == "xy"
    fresh = tmp_path / "fresh.db"
    create_private(fresh)
    assert mode(fresh) == 0o600
