"""The local journal of tickets and messages: append-only, fsynced, replayed once, safe across
processes; and the replay against a real database (SQLite) once it is reachable again."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import wiring
from cli import main as cli
from config.settings import Settings
from nlu.dialogue.actions import SendProcedureSms
from nlu.dialogue.draft import Draft
from pbx.ai_operator.ports import LivePorts
from ticketing.db import migrate
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.db.outbox import SqlOutboxRepository
from ticketing.domain.model import AttachmentKind, Status
from ticketing.dossiers import DossierTable
from ticketing.filing import ReportFiler, journal_writer, message_enqueuer
from ticketing.journal import JournalEntry, MessageJournal, TicketJournal, journal_path, messages_path
from ticketing.ports import SystemClock

DATA = {"category": "VSMT", "content": "Rác thải đầu ngõ", "caller": {"phone": "0912345678"}}


def test_append_pending_replay_once(tmp_path: Path) -> None:
    journal = TicketJournal(tmp_path / "j" / "tickets.jsonl")
    first = journal.append(DATA)
    second = journal.append({**DATA, "content": "Đèn hỏng"}, recordings=("/nowhere.wav",))
    journal.add_recording(first, "/rec/a.wav")
    assert [e.id for e in journal.pending()] == [first, second]
    assert journal.pending()[0].recordings == ("/rec/a.wav",)
    filed: list[str] = []

    def write(entry: JournalEntry) -> str:
        filed.append(entry.id)
        return f"code-{len(filed)}"

    report = journal.replay(write)
    assert report.filed == [(first, "code-1"), (second, "code-2")]
    assert journal.pending() == [] and journal.replayed_code(first) == "code-1"
    assert journal.replay(write).filed == [] and filed == [first, second]  # never twice
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"  # personal data inside


def test_replay_stops_at_the_first_failure_and_resumes(tmp_path: Path) -> None:
    journal = TicketJournal(tmp_path / "tickets.jsonl")
    ids = [journal.append({**DATA, "content": str(i)}) for i in range(3)]
    calls = {"n": 0}

    def flaky(entry: JournalEntry) -> str:
        calls["n"] += 1
        if entry.id == ids[1] and calls["n"] == 2:
            raise ConnectionError("database still down")
        return entry.id.lower()

    report = journal.replay(flaky)
    assert [i for i, _ in report.filed] == [ids[0]] and report.failed[0][0] == ids[1]
    assert [e.id for e in journal.pending()] == ids[1:]
    assert [i for i, _ in journal.replay(flaky).filed] == ids[1:]


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    journal = TicketJournal(tmp_path / "tickets.jsonl")
    kept = journal.append(DATA)
    with journal.path.open("a", encoding="utf-8") as fh:
        fh.write('{"op": "create", "id": "J-torn", "da')
    assert [e.id for e in journal.pending()] == [kept]


def _append_many(path: str, n: int) -> None:
    journal = TicketJournal(Path(path))
    for i in range(n):
        journal.append({**DATA, "content": f"{i}"})


def test_concurrent_appends_from_processes_keep_every_line(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), 40)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 120 and all(json.loads(line)["op"] == "create" for line in lines)


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(data_dir=tmp_path, database={"url": url})  # type: ignore[arg-type]


def test_database_down_journals_the_report_and_replay_files_it_with_the_recording(
    tmp_path: Path,
) -> None:
    """LivePorts against a database that is not there (a SQLite file in a missing directory), then
    the real database: the journaled report is filed, recording attached, SMS queued."""
    down = _settings(tmp_path, f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    ports = LivePorts(
        ReportFiler(wiring.build(down).tickets, TicketJournal(journal_path(tmp_path))),
        DossierTable(tmp_path / "dossiers.csv"),
    )
    draft = Draft(
        caller_id="0912345678",
        content="Đèn đường hỏng",
        ward="Phường Đống Đa",
        incident_time="2026-11-21T20:00",
        name="Trần Thị Bích Ngọc",
        phone="0912345678",
        phone_confirmed=True,
        category="CS",
        transcript=(("caller", "đèn đường hỏng"),),
    )
    entry_id = ports.create_ticket(draft, complete=True)
    assert entry_id.startswith("J-") and ports.filed == [(entry_id, True)]
    recording = tmp_path / "call.wav"
    recording.write_bytes(b"RIFF" + bytes(2000))
    ports.attach_recording(entry_id, recording)

    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    up = _settings(tmp_path, url)
    service = wiring.build(up).tickets
    report = TicketJournal(journal_path(tmp_path)).replay(journal_writer(service, "ai-operator"))
    assert len(report.filed) == 1
    ticket = service.get(report.filed[0][1])
    assert ticket.status is Status.NEW and ticket.caller.name == "Trần Thị Bích Ngọc"
    assert [a.kind for a in ticket.attachments] == [AttachmentKind.RECORDING]
    engine = make_engine(url)
    with engine.connect() as conn:
        from sqlalchemy import text

        sms = conn.execute(text("SELECT recipient FROM outbox WHERE ticket_code = :c"), {"c": ticket.code})
        assert [r[0] for r in sms] == ["0912345678"]


def test_cli_journal_list_and_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE__URL", url)
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "none.toml"))
    from config.settings import get_settings

    get_settings.cache_clear()
    try:
        journal = TicketJournal(journal_path(tmp_path))
        data: dict[str, Any] = {**DATA, "complete": False}
        entry = journal.append(data)
        runner = CliRunner()
        listed = runner.invoke(cli, ["journal", "list"])
        message = MessageJournal(messages_path(tmp_path)).append(SMS_FIELDS)
        listed = runner.invoke(cli, ["journal", "list"])
        assert listed.exit_code == 0 and entry in listed.output and message in listed.output
        assert "1 phiếu, 1 tin nhắn chờ ghi" in listed.output
        replayed = runner.invoke(cli, ["journal", "replay"])
        assert replayed.exit_code == 0, replayed.output
        assert f"{entry} -> " in replayed.output and f"{message} -> outbox" in replayed.output
        assert "0 phiếu, 0 tin nhắn chờ" in replayed.output
        again = runner.invoke(cli, ["journal", "replay"])
        assert again.exit_code == 0 and "0 phiếu, 0 tin nhắn đã ghi" in again.output
        outbox = runner.invoke(cli, ["outbox", "list", "--json"])
        assert outbox.exit_code == 0 and "procedure_answer" in outbox.output
    finally:
        get_settings.cache_clear()


SMS_FIELDS: dict[str, Any] = {
    "kind": "procedure_answer",
    "channel": "sms",
    "recipient": "0912345678",
    "subject": "",
    "body": "Khai sinh: to khai, giay chung sinh",
    "dedupe_key": "procedure_answer:k1:sms",
    "ticket_code": "",
}


def test_message_journal_replays_each_message_once_and_stops_at_a_failure(tmp_path: Path) -> None:
    journal = MessageJournal(messages_path(tmp_path))
    ids = [journal.append({**SMS_FIELDS, "dedupe_key": f"k{i}"}) for i in range(3)]
    queued: list[str] = []

    def flaky(message: dict[str, Any]) -> None:
        if message["dedupe_key"] == "k1" and "k1-failed" not in queued:
            queued.append("k1-failed")
            raise OSError("database still down")
        queued.append(message["dedupe_key"])

    first = journal.replay(flaky)
    assert [i for i, _ in first.filed] == ids[:1] and [i for i, _ in first.failed] == ids[1:2]
    assert [i for i, _ in journal.pending()] == ids[1:]
    second = journal.replay(flaky)
    assert [i for i, _ in second.filed] == ids[1:] and journal.pending() == []
    assert journal.replay(flaky).filed == [] and queued == ["k0", "k1-failed", "k1", "k2"]
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"  # a phone number inside


def test_procedure_sms_with_the_database_down_is_journaled_then_queued(tmp_path: Path) -> None:
    """The caller asked for the guidance by SMS while the database was down: the message waits in
    the journal and reaches the real outbox (once, even if replayed twice) when it is back."""
    down_url = f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
    down = _settings(tmp_path, down_url)
    messages = MessageJournal(messages_path(tmp_path))
    ports = LivePorts(
        ReportFiler(wiring.build(down).tickets, TicketJournal(journal_path(tmp_path))),
        DossierTable(tmp_path / "dossiers.csv"),
        outbox=SqlOutboxRepository(make_session_factory(make_engine(down_url))),
        messages=messages,
    )
    sms = SendProcedureSms("khai-sinh", "0912345678", "Đăng ký khai sinh", "Tờ khai; giấy chứng sinh.")
    assert ports.send_procedure_sms(sms) is True
    [(entry_id, fields)] = messages.pending()
    assert fields["recipient"] == "0912345678" and "Dang ky khai sinh" in fields["body"]

    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    outbox = SqlOutboxRepository(make_session_factory(make_engine(url)))
    report = messages.replay(message_enqueuer(outbox, SystemClock()))
    assert report.filed == [(entry_id, "outbox")] and messages.pending() == []
    assert message_enqueuer(outbox, SystemClock())(fields) is None  # a second replay: deduped
    [queued] = outbox.list(None, 10)
    assert queued.recipient == "0912345678" and queued.kind == "procedure_answer"


def test_procedure_sms_without_a_message_journal_reports_the_failure(tmp_path: Path) -> None:
    down_url = f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
    ports = LivePorts(
        ReportFiler(
            wiring.build(_settings(tmp_path, down_url)).tickets, TicketJournal(journal_path(tmp_path))
        ),
        DossierTable(tmp_path / "dossiers.csv"),
        outbox=SqlOutboxRepository(make_session_factory(make_engine(down_url))),
    )
    with pytest.raises(Exception):  # noqa: B017 - the handler logs whatever the database raised
        ports.send_procedure_sms(SendProcedureSms("khai-sinh", "0912345678", "Khai sinh", "Tờ khai."))
