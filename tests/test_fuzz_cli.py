"""Permanent cases from fuzzing the CLI and the parsers: each input once printed a traceback or raised;
now each is a one-line error (exit 1) that changes nothing, or a clean "no value"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.test_cli_tickets import REPORT, Hotline

NOW = datetime(2026, 11, 22, 9, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Hotline]:
    from config.settings import get_settings

    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    hotline = Hotline(env, tmp_path)
    hotline("db", "upgrade")
    yield hotline
    get_settings.cache_clear()


def _blobs(tmp_path: Path) -> set[Path]:
    return {p for p in (tmp_path / "var" / "attachments").rglob("*") if p.is_file()}


def test_json_that_once_crashed_is_a_one_line_error(h: Hotline, tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert "nested too deeply" in h.fails("tickets", "create", str(nested))
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(
        json.dumps({**REPORT, "content": "Rác"}, ensure_ascii=False).encode("latin-1", "replace")
    )
    latin1.write_bytes(b'{"content": "R\xe1c th\xe1i", "category": "VSMT"}')
    assert "not a UTF-8 file" in h.fails("tickets", "create", str(latin1))
    huge = '{"content": "x", "priority": ' + "9" * 5000 + "}"
    assert "malformed JSON" in h.fails("tickets", "create", "-", input=huge)
    assert "JSON object" in h.fails("tickets", "create", "-", input="[1, 2]")
    assert h("tickets", "list", "--json").stdout.strip() == "[]"  # nothing was created


def test_complete_draft_with_non_text_fields(h: Hotline) -> None:
    draft = h.create({"category": "VSMT", "caller": {"phone": "0912345678"}, "complete": False})
    before = h.state(draft)
    for bad in ({"content": True}, {"content": "Rác", "category": ["VSMT"]}, {"category": {"x": 1}}):
        err = h.fails("tickets", "complete-draft", draft, "-", input=json.dumps(bad))
        assert "must be a string" in err
    assert "nested too deeply" in h.fails("tickets", "complete-draft", draft, "-", input="[" * 50_000)
    assert h.state(draft) == before


def test_unreadable_evidence_is_one_line_and_leaves_nothing(h: Hotline, tmp_path: Path) -> None:
    code = h.create()
    h("agencies", "import")
    h("tickets", "dispatch", code)
    h("tickets", "accept", code)
    before = _blobs(tmp_path)
    # /proc/self/mem is a regular file that no one can read from offset 0 (EIO), even root
    err = h.fails("tickets", "complete", code, "--result", "Đã xử lý", "--evidence", "/proc/self/mem")
    assert "cannot read /proc/self/mem" in err
    assert "file not found" in h.fails(
        "tickets", "complete", code, "--result", "x", "--evidence", str(tmp_path)
    )
    # a refused step (no result text) stores no blob: evidence is written after the domain check
    photo = tmp_path / "bien-ban.jpg"
    photo.write_bytes(b"\xff\xd8 evidence never stored")
    assert "result" in h.fails("tickets", "complete", code, "--result", "  ", "--evidence", str(photo))
    assert _blobs(tmp_path) == before
    h("tickets", "complete", code, "--result", "Đã xử lý", "--evidence", str(photo))
    assert len(_blobs(tmp_path) - before) == 1


@pytest.mark.parametrize(
    ("first", "last"),
    [("0001-01-01", "9999-12-31"), ("2026-01-01", "9999-12-31"), ("0001-01-01", "2026-01-01")],
)
def test_report_range_at_the_calendar_edges(h: Hotline, first: str, last: str) -> None:
    assert "1900-2999" in h.fails("reports", "range", "--from", first, "--to", last)


@pytest.mark.parametrize(
    "period",
    [
        ("monthly", "--month", "9999-12"),
        ("quarterly", "--quarter", "9999Q4"),
        ("yearly", "--year", "9999"),
        ("yearly", "--year", "0000"),
    ],
)
def test_report_periods_at_the_calendar_edges(h: Hotline, period: tuple[str, str, str]) -> None:
    assert "1900-2999" in h.fails("reports", *period)


@pytest.mark.parametrize(
    "said", ["hai tỷ ngày trước", "chín trăm nghìn tỷ phút trước", "hai tỷ tuần trước", "một tỷ tháng trước"]
)
def test_huge_time_offsets_are_no_time(said: str) -> None:
    from nlu.normalize import extract_entities
    from nlu.normalize.times import normalize_time

    assert normalize_time(said, NOW) is None
    assert "time" not in extract_entities(f"rác tồn đọng từ {said}", NOW, "hanoi")
