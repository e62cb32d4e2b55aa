"""The typed intake contract (ticketing.intake.NewReport) and the one resilient filing path
(ticketing.filing.ReportFiler): bad input is refused in one line at the edge, a call's draft is made
to fit rather than lost, and a report is filed as a ticket, else kept as a draft, else journaled."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

import wiring
from config.settings import Settings
from tests.test_cli_tickets import REPORT, Hotline
from ticketing.db import migrate
from ticketing.domain.errors import ValidationError
from ticketing.errors import StorageError, StorageUnavailable
from ticketing.filing import ReportFiler
from ticketing.intake import MAX_CONTENT, NewReport, bounded, parse_changes, parse_report
from ticketing.journal import TicketJournal, journal_path


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"complete": "false"}, "complete must be true or false"),
        ({"complete": 0}, "complete must be true or false"),
        ({"caller": {"confidential": "no"}}, "caller.confidential must be true or false"),
        ({"content": "x" * (10 * 1024 * 1024)}, f"content is longer than {MAX_CONTENT} characters"),
        ({"content": "rác\x00thải"}, "control character U+0000"),
        ({"caller": {"name": "Nguyễn\x1bVăn An"}}, "control character U+001B"),
        ({"caller": {"phone": "0" * 60}}, "caller.phone is longer than 32 characters"),
        ({"caller": {"phone": "0" * 20}}, "invalid caller.phone"),
        ({"caller": {"phone": "09xx"}}, "invalid caller.phone"),
        ({"caller": {"cccd": "12345"}}, "invalid caller.cccd"),
        ({"caller": {"email": "not-an-address"}}, "invalid caller.email"),
        ({"place": {"ward_code": "7"}}, "invalid place.ward_code"),
        ({"category": ["VSMT"]}, "category must be a string"),
        ({"caller": "Nguyễn Văn An"}, "caller must be an object"),
        ({"colour": "red"}, "unknown fields: colour"),
        ({"caller": {"age": 40}}, "unknown fields in caller: age"),
        ({"transcript": "a" * 100_001}, "transcript is longer than 100000 characters"),
    ],
)
def test_bad_reports_are_refused_in_one_line(patch: dict[str, Any], message: str) -> None:
    data = {**REPORT, **patch}
    with pytest.raises(ValidationError) as info:
        parse_report(data)
    text = str(info.value)
    assert message in text and "\n" not in text and len(text) < 300, text


def test_text_is_nfc_normalised_and_trimmed_and_numbers_tidied() -> None:
    nfd = unicodedata.normalize("NFD", "Rác thải ở ngõ 5 Hàng Bông")
    assert nfd != unicodedata.normalize("NFC", nfd)
    report = parse_report(
        {**REPORT, "content": f"  {nfd}\r\n", "caller": {"phone": "0912 345.678", "cccd": 123456789}}
    )
    assert report.content == unicodedata.normalize("NFC", nfd)
    assert report.caller.phone == "0912345678" and report.caller.cccd == "123456789"
    assert parse_report(report) is report and isinstance(report, NewReport)
    assert report.as_data()["complete"] is True and "lead_agency" not in report.as_data()


def test_changes_to_a_draft_are_checked_the_same_way() -> None:
    assert parse_changes({"caller": {"name": "An"}}).as_data() == {"caller": {"name": "An"}}
    with pytest.raises(ValidationError, match="fields that cannot be set: city"):
        parse_changes({"city": "hanoi"})
    with pytest.raises(ValidationError, match="control character"):
        parse_changes({"content": "a\x07b"})


def test_a_calls_draft_is_made_to_fit_rather_than_lost() -> None:
    data = {
        **REPORT,
        "caller": {"name": "An", "phone": "sipp-caller"},  # a SIP user name as the caller id
        "content": "rác " * 3000,
        "transcript": "a\x00b",
    }
    fixed = parse_report(bounded(data))
    assert fixed.caller.phone == "" and "(số điện thoại theo người gọi: sipp-caller)" in fixed.content
    assert len(fixed.content) <= MAX_CONTENT and fixed.transcript == "ab"
    with pytest.raises(ValidationError):
        parse_report(bounded({**REPORT, "colour": "red"}))  # not a fit problem: still refused


@pytest.fixture
def root(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    services = wiring.build(Settings(data_dir=tmp_path, database={"url": url}))  # type: ignore[arg-type]
    services.admin.import_agencies("hanoi", "test")
    yield services
    services.close()


def test_filing_a_ticket_else_a_draft(root: Any) -> None:
    filed = root.filer.file(REPORT, "cli")
    assert filed.outcome == "ticket" and root.tickets.get(filed.code).status.value == "Mới tạo"
    no_content = {**REPORT, "content": ""}
    kept = root.filer.file(no_content, "ai-operator")  # refused as complete: kept for a call-back
    assert kept.outcome == "draft" and root.tickets.get(kept.code).status.value != "Mới tạo"


def test_filing_with_the_database_down_journals_and_replay_files_it(root: Any, tmp_path: Path) -> None:
    down = wiring.build(
        Settings(data_dir=tmp_path, database={"url": f"sqlite:///{tmp_path / 'missing' / 'x.db'}"})  # type: ignore[arg-type]
    )
    with pytest.raises(StorageUnavailable):  # the PBX sees ticketing's exception, not SQLAlchemy's
        down.tickets.create(REPORT, "ai-operator")
    filed = down.filer.file(REPORT, "ai-operator")
    assert filed.journaled and filed.code.startswith("J-")
    assert isinstance(down.filer, ReportFiler) and len(TicketJournal(journal_path(tmp_path)).pending()) == 1
    report = root.filer.replay("ai-operator")
    assert [entry for entry, _ in report.filed] == [filed.code] and root.journal.pending() == []
    assert issubclass(StorageUnavailable, StorageError)


def test_cli_create_refuses_a_string_complete_in_one_line(tmp_path: Path) -> None:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    h = Hotline(env, tmp_path)
    h("db", "upgrade")
    err = h.fails("tickets", "create", "-", input=json.dumps({**REPORT, "complete": "false"}))
    assert "complete must be true or false" in err
    err = h.fails("tickets", "create", "-", input=json.dumps({**REPORT, "content": "a\u0000b"}))
    assert "control character" in err
    assert h("tickets", "list", "--json").stdout.strip() == "[]"  # nothing was filed


@pytest.mark.postgres
def test_concurrent_filings_on_postgresql_each_get_a_code_an_sms_and_an_audit_row(
    pg_url: str, tmp_path: Path
) -> None:
    """The hot path of the public doors, through the composition root: a code from the sequence, the
    ticket, its history and audit row as Core inserts, its SMS through the outbox, 8 threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    from ticketing.domain import tracking

    migrate.upgrade(pg_url)
    services = wiring.build(Settings(data_dir=tmp_path, database={"url": pg_url}))  # type: ignore[arg-type]
    services.admin.import_agencies("hanoi", "test")
    try:

        def file(i: int) -> str:
            report = {**REPORT, "content": f"Rác tồn đọng ở ngõ {i} chưa được thu gom"}
            filed = services.filer.file(report, f"api:client-{i % 3}")
            assert filed.outcome == "ticket"
            return filed.code

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(file, range(40)))
        assert len(set(codes)) == 40
        assert sorted(tracking.sequence_of(c) for c in codes) == list(range(1, 41))
        engine = services.engine
        with engine.connect() as conn:
            sms = conn.execute(text("SELECT ticket_code FROM outbox WHERE kind = 'tracking_code'")).scalars()
            audited = conn.execute(
                text("SELECT entity_id FROM audit_log WHERE entity = 'ticket' AND action = 'create'")
            ).scalars()
            events = conn.execute(text("SELECT count(*) FROM ticket_events WHERE action = 'create'")).scalar()
            assert sorted(sms) == sorted(codes) and sorted(audited) == sorted(codes) and events == 40
        shown = services.tickets.get(codes[0])
        assert shown.id is not None and shown.history[0].action == "create"
    finally:
        services.close()
