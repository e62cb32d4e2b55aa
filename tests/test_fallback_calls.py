"""Calls the app never saw, from Asterisk's fallback journal into the call log (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pbx.fallback_calls import import_journal, parse_line
from ticketing.calls import CallLog, Outcome
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory

T0 = 1796344728  # 2026-12-04 07:38:48 in Hanoi
REC = "/var/spool/asterisk-main/monitor/hotline/2026/12/04/c1.wav"


@pytest.fixture
def repo(db_url: str) -> Iterator[SqlCallRepository]:
    engine = make_engine(db_url)
    yield SqlCallRepository(make_session_factory(engine))
    engine.dispose()


def test_parse_line() -> None:
    start = parse_line(f"start|{T0}|c1|0912345678|1022||{REC}\n")
    assert start is not None and start.kind == "start" and start.caller == "0912345678"
    assert start.at == datetime.fromtimestamp(T0, UTC) and start.recording == REC
    end = parse_line(f"end|{T0 + 30}|c1|PJSIP/op1001|")
    assert end is not None and end.kind == "end" and end.answered_by == "PJSIP/op1001"
    for bad in [
        "",
        "\n",
        "start|x|c1|0|1022||r",
        f"start|{T0}||0|1022||r",
        f"end|{T0}|c1",
        "hello",
        "start|9" * 3,
    ]:
        assert parse_line(bad) is None, bad


def test_calls_are_recorded_once_with_their_outcome(repo: SqlCallRepository, tmp_path: Path) -> None:
    journal, offset = tmp_path / "fallback-calls.log", tmp_path / "run" / "offset"
    assert import_journal(journal, offset, repo) == 0  # no journal yet
    journal.write_text(
        f"start|{T0}|c1|0912345678|1022||{REC}\n"
        f"start|{T0 + 5}|c2|0243|1022|FAILED|\n"
        f"end|{T0 + 40}|c1|PJSIP/op1001|\n"
        f"end|{T0 + 9}|c2||TIMEOUT\n"
        f"start|{T0 + 60}|c3|0987",  # still being written: waits
        encoding="utf-8",
    )
    assert import_journal(journal, offset, repo) == 4
    assert import_journal(journal, offset, repo) == 0  # idempotent
    c1, c2 = repo.by_channel("c1"), repo.by_channel("c2")
    assert (
        c1 is not None and c1.outcome is Outcome.TRANSFERRED and c1.duration_s == 40 and c1.recording == REC
    )
    assert c2 is not None and c2.outcome is Outcome.ABANDONED and c2.caller == "0243"
    assert repo.by_channel("c3") is None
    with journal.open("a", encoding="utf-8") as f:
        f.write(f"|1022||\nend|{T0 + 70}|c3||\n")
    assert import_journal(journal, offset, repo) == 2
    c3 = repo.by_channel("c3")
    assert c3 is not None and c3.caller == "0987" and c3.outcome is Outcome.ABANDONED


def test_a_call_the_app_already_closed_is_left_alone(repo: SqlCallRepository, tmp_path: Path) -> None:
    log = CallLog(repo)
    log.start("c1", "0912345678", "1022")
    log.finish("c1", Outcome.AI_HANDLED)
    before = repo.by_channel("c1")
    journal = tmp_path / "fallback-calls.log"
    journal.write_text(f"start|{T0}|c1|0912345678|1022|SUCCESS|{REC}\nend|{T0 + 99}|c1||\n", encoding="utf-8")
    assert import_journal(journal, tmp_path / "offset", repo) == 0
    after = repo.by_channel("c1")
    assert after is not None and before is not None
    assert after.outcome is Outcome.AI_HANDLED and after.ended_at == before.ended_at
    assert after.recording == REC  # the journal knew the recording the app had not noted


def test_a_rotated_journal_is_read_from_its_start(repo: SqlCallRepository, tmp_path: Path) -> None:
    journal, offset = tmp_path / "fallback-calls.log", tmp_path / "offset"
    journal.write_text(f"start|{T0}|c1|01|1022||\nend|{T0 + 1}|c1||\n" * 3, encoding="utf-8")
    assert import_journal(journal, offset, repo) == 2
    journal.write_text(f"start|{T0 + 5}|c9|02|1022||\n", encoding="utf-8")  # shorter: a new file
    assert import_journal(journal, offset, repo) == 1
    assert repo.by_channel("c9") is not None


def test_a_database_error_keeps_the_lines_for_next_time(repo: SqlCallRepository, tmp_path: Path) -> None:
    journal, offset = tmp_path / "fallback-calls.log", tmp_path / "offset"
    journal.write_text(f"start|{T0}|c1|01|1022||\n", encoding="utf-8")

    class Down(SqlCallRepository):
        def add(self, record):  # type: ignore[no-untyped-def]
            raise ConnectionError("database is down")

    with pytest.raises(ConnectionError):
        import_journal(journal, offset, Down(repo._sessions))
    assert not offset.exists()
    assert import_journal(journal, offset, repo) == 1


def test_an_arrive_line_puts_a_call_nobody_else_noted_on_record(
    repo: SqlCallRepository, tmp_path: Path
) -> None:
    """Asterisk answered and journalled the call, then died (or the app and the database could not
    note it): the record exists, open, from the dialplan; the fallback lines complete it."""
    arrive = parse_line(f"arrive|{T0}|c1|0912345678|1022|{REC}\n")
    assert arrive is not None and arrive.kind == "arrive" and arrive.recording == REC
    assert parse_line(f"arrive|{T0}|c1|0912345678|1022") is None  # torn
    journal, offset = tmp_path / "fallback-calls.log", tmp_path / "offset"
    journal.write_text(f"arrive|{T0}|c1|0912345678|1022|{REC}\narrive|{T0 + 1}|c2|0243|1022|\n", "utf-8")
    assert import_journal(journal, offset, repo) == 2
    c1 = repo.by_channel("c1")
    assert c1 is not None and c1.caller == "0912345678" and c1.ended_at is None and c1.recording == REC
    assert c1.source.value == "dialplan"
    with journal.open("a", encoding="utf-8") as f:  # c2 went on through the fallback path
        f.write(f"start|{T0 + 1}|c2|0243|1022|FAILED|\nend|{T0 + 30}|c2|PJSIP/op1001|\n")
    assert import_journal(journal, offset, repo) == 1
    c2 = repo.by_channel("c2")
    assert c2 is not None and c2.outcome is Outcome.TRANSFERRED and c2.duration_s == 29


def test_the_app_adopts_the_record_of_an_arrive_line(repo: SqlCallRepository, tmp_path: Path) -> None:
    journal, offset = tmp_path / "fallback-calls.log", tmp_path / "offset"
    journal.write_text(f"arrive|{T0}|c1|0912345678|1022|{REC}\n", "utf-8")
    assert import_journal(journal, offset, repo) == 1
    log = CallLog(repo)
    record = log.start("c1", "0912345678", "1022", REC)
    assert record.source.value == "app" and repo.by_channel("c1") == record  # one record, now the app's
    log.finish("c1", Outcome.AI_HANDLED)
    assert import_journal(journal, offset, repo) == 0
    again = repo.by_channel("c1")
    assert again is not None and again.outcome is Outcome.AI_HANDLED


def test_an_arrive_line_after_the_app_wrote_its_record_changes_nothing(
    repo: SqlCallRepository, tmp_path: Path
) -> None:
    log = CallLog(repo)
    log.start("c1", "0912345678", "1022", REC)
    before = repo.by_channel("c1")
    journal, offset = tmp_path / "fallback-calls.log", tmp_path / "offset"
    journal.write_text(f"arrive|{T0}|c1|0912345678|1022|{REC}\n", "utf-8")
    assert import_journal(journal, offset, repo) == 0
    assert repo.by_channel("c1") == before
