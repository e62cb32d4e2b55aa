"""Structured logs (:mod:`ops.logs`): JSON lines with the call id and ticket code, redaction of phone
numbers, CCCD numbers and secrets, and rotation of what the product writes (service logs kept open by
their writer, the ticket/message journals, the PBX's fallback-call journal)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops import logs
from pbx.fallback_calls import import_journal, rotate_journal
from ticketing.db import migrate
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.journal import MessageJournal, TicketJournal

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("gọi lại số 0987654321 giúp tôi", "gọi lại số", "0987654321"),
        ("caller +84987654321 on hold", "on hold", "84987654321"),
        ("số 0987 654 321 nhé", "nhé", "654 321"),
        ("máy bàn 02438123456", "máy bàn", "02438123456"),
        ("căn cước 001190012345", "căn cước", "001190012345"),
        ("login password=s3cr3t-Pa55 ok", "login password=", "s3cr3t-Pa55"),
        ('{"token": "abcdefgh123"}', "token", "abcdefgh123"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x", "Authorization", "eyJhbGciOiJIUzI1NiJ9"),
        ("db postgresql+psycopg://hotline:Xy9kLmn0@db/hotline", "postgresql+psycopg://hotline:", "Xy9kLmn0"),
        ("ari secret is CONFIGURED-ari-secret-123", "ari secret is", "CONFIGURED-ari-secret-123"),
    ],
)
def test_redactor_removes_personal_data_and_secrets(text: str, kept: str, gone: str) -> None:
    out = logs.Redactor(["CONFIGURED-ari-secret-123"])(text)
    assert gone not in out and kept in out and logs.REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "ticket 000000018 filed",  # tracking codes stay
        "channel hotline-main-1796538317.2 ended",  # Asterisk unique ids stay
        "deadline 2026-12-06T16:00+07:00",
        "took 0.4123456789 s",
        "draft J-4f3a2b1c9d8e",
    ],
)
def test_redactor_keeps_what_operations_need(text: str) -> None:
    assert logs.Redactor()(text) == text


def test_json_lines_carry_call_id_and_ticket_code_and_never_personal_data() -> None:
    stream = io.StringIO()
    handler = logs.configure(logging.INFO, "json", ["hunter2-secret"], stream)
    try:
        log = logging.getLogger("hotline.test")

        async def call() -> None:
            ctx, holder = logs.call_context("hotline-main-1796538317.2")

            async def dialogue() -> None:
                log.info("caller said %s", "số của tôi là 0987654321")
                holder.ticket_code = "000000018"
                await asyncio.sleep(0)
                log.warning("filed for CCCD %s", "001190012345")
                try:
                    raise RuntimeError("smtp login hunter2-secret refused for 0912345678")
                except RuntimeError:
                    log.exception("notification failed")

            await asyncio.create_task(dialogue(), context=ctx)
            log.info("outside the call")

        asyncio.run(call())
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["call_id"] for r in lines] == ["hotline-main-1796538317.2"] * 3 + [""]
    assert [r["ticket_code"] for r in lines] == ["", "000000018", "000000018", ""]
    assert {"ts", "level", "logger", "msg", "process"} <= set(lines[0])
    text = stream.getvalue()
    for secret in ("0987654321", "001190012345", "hunter2-secret", "0912345678"):
        assert secret not in text
    assert "RuntimeError" in lines[2]["exc"] and logs.REDACTED in lines[2]["exc"]


def test_the_cli_logs_json_lines_when_configured(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HOTLINE_DATA_DIR": str(tmp_path),
        "HOTLINE_DATABASE__URL": "",
        "HOTLINE_CONFIG": str(tmp_path / "none.toml"),
        "HOTLINE_OPS__LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "-v", "db", "upgrade", "--no-agencies"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert records and all({"call_id", "ticket_code", "msg"} <= set(r) for r in records)
    assert any("Running upgrade" in r["msg"] for r in records)


# -- rotation --------------------------------------------------------------------------------------


def test_copytruncate_keeps_every_line_of_a_writer_that_keeps_the_file_open(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # as `hotline up` gives stdout
    try:
        for i in range(200):
            os.write(fd, f"line {i}\n".encode())
        assert logs.rotate_copytruncate(path, 1000, 3)
        for i in range(200, 210):
            os.write(fd, f"line {i}\n".encode())
    finally:
        os.close(fd)
    rotated = (tmp_path / "app.log.1").read_text().splitlines()
    current = path.read_text().splitlines()
    assert rotated + current == [f"line {i}" for i in range(210)]
    assert not logs.rotate_copytruncate(path, 10_000, 3)  # small: left alone
    assert (tmp_path / "app.log.1").stat().st_mode & 0o777 == 0o600


def test_rotate_logs_keeps_the_configured_number_of_backups(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.log"
    for round_ in range(5):
        path.write_text(f"round {round_}\n" * 100)
        assert logs.rotate_logs(tmp_path, 100, 2, exclude={"fallback-calls.log"}) == ["scheduler.log"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "scheduler.log",
        "scheduler.log.1",
        "scheduler.log.2",
    ]
    assert (tmp_path / "scheduler.log.1").read_text().startswith("round 4")


def test_ticket_journal_rotates_only_when_nothing_waits(tmp_path: Path) -> None:
    journal = TicketJournal(tmp_path / "tickets.jsonl")
    for i in range(20):
        journal.append({"content": f"phản ánh số {i} " + "x" * 100})
    assert not journal.rotate(100, 3)  # tickets still wait for the database
    report = journal.replay(lambda entry: "000000018")
    assert len(report.filed) == 20
    assert journal.rotate(100, 3)
    assert not journal.path.exists() and (tmp_path / "tickets.jsonl.1").is_file()
    entry = journal.append({"content": "sau khi xoay vòng"})
    assert [e.id for e in journal.pending()] == [entry]
    messages = MessageJournal(tmp_path / "messages.jsonl")
    messages.append({"body": "x" * 300})
    assert not messages.rotate(100, 3)


def test_fallback_journal_rotates_after_import_without_losing_a_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    repo = SqlCallRepository(make_session_factory(engine))
    journal, offset = tmp_path / "fallback-calls.log", tmp_path / "fallback.offset"
    epoch = int(datetime(2026, 12, 6, 8, tzinfo=UTC).timestamp())

    def start(n: int) -> str:
        return f"start|{epoch + n}|chan-{n}|0912345678|1022|FAILED|/var/spool/rec-{n}.wav\n"

    with journal.open("a") as fh:
        fh.writelines(start(n) for n in range(10))
    assert not rotate_journal(journal, offset, repo, 100, 3)  # nothing imported yet
    import_journal(journal, offset, repo)
    with journal.open("a") as fh:  # Asterisk appends right before the rotation
        fh.write(start(10))
    assert not rotate_journal(journal, offset, repo, 100, 3)  # one line not imported yet
    import_journal(journal, offset, repo)
    with journal.open("a") as fh:
        fh.write(start(11))
    # the offset is behind again: rotation waits for the next import
    assert not rotate_journal(journal, offset, repo, 100, 3)
    import_journal(journal, offset, repo)
    assert rotate_journal(journal, offset, repo, 100, 3)
    with journal.open("a") as fh:  # the new file after the rotation
        fh.write(start(12))
    import_journal(journal, offset, repo)
    channels = {r.channel_id for r in repo.list_recent(50)}
    assert channels == {f"chan-{n}" for n in range(13)}
    engine.dispose()


def test_scheduler_round_rotates_service_logs_and_settled_journals(tmp_path: Path) -> None:
    from commands.scheduler import rotate_files
    from config.settings import OpsSettings, Settings
    from ticketing.journal import journal_path

    settings = Settings(data_dir=tmp_path, ops=OpsSettings(log_max_bytes=1000, log_backups=2))
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    (log_dir / "app.log").write_text("x" * 2000)
    (log_dir / "scheduler.log").write_text("small\n")
    journal = TicketJournal(journal_path(tmp_path))
    journal.append({"content": "y" * 2000})
    rotated = rotate_files(settings)
    assert rotated == ["app.log"]  # the journal still waits for the database
    assert (log_dir / "app.log").stat().st_size == 0 and (log_dir / "app.log.1").stat().st_size == 2000
    journal.replay(lambda entry: "000000018")
    assert rotate_files(settings) == ["tickets.jsonl"]
